"""The night's linkage report: one self-contained HTML page, and the index of nights.

:mod:`~transforms.link.report.page` writes the page: inline SVG charts
(:mod:`~transforms.link.report.svg_charts`), and, given the model, Splink's own charts
(:mod:`~transforms.link.report.model_section`) drawn by Vega inlined from the installed
Splink package: no CDN, so it opens offline and in locked-down browsers. No token,
Bloom filter or record id reaches the page. :mod:`~transforms.link.report.index_page`
lists the nights beside the reports. Accuracy against ground truth, which the page
shows, is :mod:`transforms.link.accuracy`.
"""
