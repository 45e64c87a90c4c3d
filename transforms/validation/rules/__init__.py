"""The validation rules, one module per concept: the :class:`~.core.Rule` type and its
makers (``core``), rules several suites share (``common``), each source's rules
(``dcc``, ``dchs``) and the output tables' rules (``outputs``). The catalogue that names
the suites and writes them out is :mod:`transforms.validation.suites`."""
