"""Inline SVG charts of the linkage report: no script draws them, so the page's core
shows in any browser, offline."""

from __future__ import annotations

import math

import numpy as np

from transforms.link.report.markup import esc


def svg_bar_chart(
    labels: list[str], values: list[float], *, title: str, width: int = 560, colour: str = "#3b6ea5"
) -> str:
    """Horizontal bars with value labels."""
    bar_h, gap, left, right = 26, 8, 170, 90
    height = 40 + len(labels) * (bar_h + gap)
    vmax = max([float(v) for v in values] + [1e-9])
    rows = []
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        y = 30 + i * (bar_h + gap)
        w = (width - left - right) * float(v) / vmax
        text = f"{v:,.0f}" if float(v) == int(v) else f"{v:,.4f}"
        rows.append(
            f'<text x="{left - 8}" y="{y + bar_h * 0.7}" text-anchor="end">{esc(lab)}</text>'
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>'
            f'<text x="{left + w + 6:.1f}" y="{y + bar_h * 0.7}">{esc(text)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{esc(title)}" '
        f'width="{width}" height="{height}" font-family="sans-serif" font-size="13">'
        f'<text x="4" y="16" font-weight="bold">{esc(title)}</text>{"".join(rows)}</svg>'
    )


def svg_histogram(
    values: np.ndarray,
    *,
    title: str,
    bins: int = 40,
    markers: dict[str, float] | None = None,
    width: int = 640,
    height: int = 260,
) -> str:
    """Histogram of ``values`` (log-scaled counts) with optional vertical markers."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    left, bottom, top, right = 50, 40, 26, 12
    plot_w, plot_h = width - left - right, height - top - bottom
    if values.size == 0:
        body = f'<text x="{left}" y="{top + 20}">no pairs</text>'
    else:
        body = _histogram_body(
            values,
            bins=bins,
            markers=markers or {},
            left=left,
            top=top,
            plot_w=plot_w,
            plot_h=plot_h,
            tick_y=height - bottom + 16,
        )
    axis = (
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#333"/>'
        f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle">match weight</text>'
        f'<text x="12" y="{top + plot_h / 2}" transform="rotate(-90 12 {top + plot_h / 2})" '
        f'text-anchor="middle">pairs (log scale)</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{esc(title)}" '
        f'width="{width}" height="{height}" font-family="sans-serif" font-size="12">'
        f'<text x="4" y="16" font-weight="bold">{esc(title)}</text>{axis}{body}</svg>'
    )


def _histogram_body(
    values: np.ndarray,
    *,
    bins: int,
    markers: dict[str, float],
    left: int,
    top: int,
    plot_w: int,
    plot_h: int,
    tick_y: int,
) -> str:
    """The bars, five x-axis ticks and the markers in range, for finite ``values``."""
    lo, hi = float(values.min()), float(values.max())
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    cmax = math.log10(counts.max() + 1)
    bw = plot_w / bins
    parts = []
    for i, c in enumerate(counts):
        h = plot_h * (math.log10(c + 1) / cmax if cmax else 0)
        parts.append(
            f'<rect x="{left + i * bw:.1f}" y="{top + plot_h - h:.1f}" width="{max(bw - 1, 1):.1f}" '
            f'height="{h:.1f}" fill="#5b8c5a"><title>{edges[i]:.1f} to {edges[i + 1]:.1f}: '
            f"{int(c):,}</title></rect>"
        )
    for k in range(5):
        x = lo + (hi - lo) * k / 4
        px = left + plot_w * k / 4
        parts.append(f'<text x="{px:.1f}" y="{tick_y}" text-anchor="middle">{x:.1f}</text>')
    for name, x in markers.items():
        if lo <= x <= hi:
            px = left + plot_w * (x - lo) / (hi - lo)
            parts.append(
                f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{top}" y2="{top + plot_h}" '
                f'stroke="#b03a2e" stroke-dasharray="4 3"/>'
                f'<text x="{px + 3:.1f}" y="{top + 12}" fill="#b03a2e">{esc(name)}</text>'
            )
    return "".join(parts)
