"""A concurrency sweep as a small self-contained SVG: output throughput and median TPOT against concurrency.

No plotting library: the file is written where only the standard library is certain (a GPU box), and it
shows as it is in a browser, on GitHub and in a notebook (`IPython.display.SVG`). The x axis is log2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

WIDTH, HEIGHT = 720, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 70, 50, 60
THROUGHPUT_COLOUR, TPOT_COLOUR = "#1f77b4", "#d62728"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * step:
            return factor * step
    return 10 * step


def _polyline(points: Sequence[tuple[float, float]], colour: str, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>' for x, y in points)
    return f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>{dots}'


def sweep_svg(points: Sequence[Mapping[str, float]], *, title: str = "", subtitle: str = "") -> str:
    """SVG text for sweep points with keys concurrency, output_throughput and median_tpot_ms."""
    rows = sorted((p for p in points if p.get("concurrency")), key=lambda p: p["concurrency"])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">'),
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
             f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
             f'<text x="{WIDTH / 2}" y="37" text-anchor="middle" fill="#555">{escape(subtitle)}</text>']
    if not rows:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no sweep points</text></svg>')
        return "".join(parts)
    lo, hi = math.log2(rows[0]["concurrency"]), math.log2(rows[-1]["concurrency"])
    span = (hi - lo) or 1.0
    x_of = lambda c: LEFT + (math.log2(c) - lo) / span * plot_w
    y_max = _nice_max(max(p["output_throughput"] for p in rows))
    t_max = _nice_max(max(p["median_tpot_ms"] for p in rows))
    y_of = lambda v, top: TOP + plot_h * (1 - v / top)
    parts.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>')
    for i in range(6):
        frac = i / 5
        y = TOP + plot_h * (1 - frac)
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{THROUGHPUT_COLOUR}">'
                     f'{y_max * frac:,.0f}</text>')
        parts.append(f'<text x="{LEFT + plot_w + 6}" y="{y + 4:.1f}" fill="{TPOT_COLOUR}">{t_max * frac:g}</text>')
    for p in rows:
        x = x_of(p["concurrency"])
        parts.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{p["concurrency"]:g}</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 15}" text-anchor="middle">'
                 'concurrent requests (log scale)</text>')
    parts.append(f'<text transform="translate(18 {TOP + plot_h / 2}) rotate(-90)" text-anchor="middle" '
                 f'fill="{THROUGHPUT_COLOUR}">output tokens/s</text>')
    parts.append(f'<text transform="translate({WIDTH - 14} {TOP + plot_h / 2}) rotate(90)" text-anchor="middle" '
                 f'fill="{TPOT_COLOUR}">median TPOT (ms)</text>')
    parts.append(_polyline([(x_of(p["concurrency"]), y_of(p["output_throughput"], y_max)) for p in rows],
                           THROUGHPUT_COLOUR))
    parts.append(_polyline([(x_of(p["concurrency"]), y_of(p["median_tpot_ms"], t_max)) for p in rows],
                           TPOT_COLOUR, dashed=True))
    parts.append(f'<text x="{LEFT + 8}" y="{TOP + 16}" fill="{THROUGHPUT_COLOUR}">— output tokens/s</text>'
                 f'<text x="{LEFT + 8}" y="{TOP + 32}" fill="{TPOT_COLOUR}">- - median TPOT (ms)</text>')
    parts.append("</svg>")
    return "".join(parts)
