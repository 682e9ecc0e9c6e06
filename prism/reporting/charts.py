"""Charts drawn with matplotlib's object API (never pyplot's global state): bars and donuts from a
`ChartSpec`, as PNG bytes sized for the page.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from prism.reporting.colours import GREY, INK, NAVY, PALETTE
from prism.reporting.model import CHART_DPI, CHART_WIDTH_IN, ChartKind, ChartSpec, RenderedChart, Unit
from prism.reporting.pdf_image import png_pixels
from prism.reporting.tally import share_pct
from prism.reporting.text import format_value, shorten

_LIBRARIES_LOCK = threading.Lock()


_libraries_loaded = False


def prepare_matplotlib() -> None:
    """Import the drawing libraries once, under a lock (concurrent first imports of numpy can break)."""
    global _libraries_loaded
    if _libraries_loaded:
        return
    with _LIBRARIES_LOCK:
        if not _libraries_loaded:
            _load_libraries()
            _libraries_loaded = True


def _load_libraries() -> None:
    """Point matplotlib at a writable cache folder before its first import, and set its text rendering."""
    if not os.environ.get("MPLCONFIGDIR"):
        user = os.getuid() if hasattr(os, "getuid") else "user"
        folder = Path(tempfile.gettempdir()) / f"prism-matplotlib-{user}"
        folder.mkdir(mode=0o700, exist_ok=True)
        os.environ["MPLCONFIGDIR"] = str(folder)
    import matplotlib

    # Set once for the process (no other module uses matplotlib). Glyph hinting is most of the
    # cost of drawing a chart and adds nothing at 150 dpi; labels are plain text, never math
    # (a money label holds a `$`).
    matplotlib.rcParams["text.hinting"] = "no_hinting"
    matplotlib.rcParams["text.parse_math"] = False
    import matplotlib.backends.backend_agg
    import matplotlib.figure
    import PIL.Image  # noqa: F401
    import reportlab.platypus  # noqa: F401


def _compact(value: float, unit: Unit) -> str:
    """A short axis label: `$12K`, `$1.2M`, `40%`."""
    if unit == "money":
        size = abs(value)
        if size >= 1e6:
            return f"${value / 1e6:.1f}M"
        return f"${value / 1e3:.0f}K" if size >= 1e3 else f"${value:.0f}"
    if unit == "percent":
        return f"{value:.0f}%"
    return f"{value:,.0f}"


def _legend_value(value: float, unit: Unit) -> str:
    """A figure beside a chart: whole dollars (the text of the report gives the cents)."""
    return f"${value:,.0f}" if unit == "money" else format_value(value, unit)


def _chart_height(spec: ChartSpec) -> float:
    if spec.kind == "donut":
        return 2.1
    if spec.kind == "bar":
        return 2.3
    rows = len(spec.labels) * (1 if spec.stacked or len(spec.series) == 1 else 1.6)
    return max(1.6, 0.42 + 0.155 * rows)


def draw_chart(spec: ChartSpec) -> RenderedChart:
    """Draw a chart with matplotlib's object API (no pyplot state) and encode it as an RGB PNG."""
    prepare_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    height = _chart_height(spec)
    figure = Figure(figsize=(CHART_WIDTH_IN, height), dpi=CHART_DPI, facecolor="white")
    canvas: Any = FigureCanvasAgg(figure)  # its drawing methods are untyped
    axes = figure.add_subplot()
    if not spec.labels or not any(value for series in spec.series for value in series.values):
        axes.set_axis_off()
        axes.text(0.5, 0.5, "Nothing to show in this snapshot", ha="center", va="center", fontsize=9, color=GREY)
    else:
        _DRAWERS[spec.kind](axes, spec)
    figure.subplots_adjust(**_margins(spec, height))
    canvas.draw()
    width_px, height_px = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width_px, height_px), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    encoded = io.BytesIO()
    # 64 colours are plenty for flat bars and anti-aliased text, and make the PNG a quarter the size.
    quantized = image.convert("RGB").quantize(64, method=Image.Quantize.FASTOCTREE)
    palette = quantized.getpalette() or []
    for start in range(0, len(palette), 3):
        if min(palette[start : start + 3]) >= 248:  # the quantizer's average of the white background
            palette[start : start + 3] = [255, 255, 255]
    quantized.putpalette(palette)
    quantized.save(encoded, format="PNG")
    png = encoded.getvalue()
    return RenderedChart(spec.title, png, CHART_WIDTH_IN, height, png_pixels(png))


def _margins(spec: ChartSpec, height: float) -> dict[str, float]:
    """Room around the plot, in figure fractions, for the words drawn outside it."""
    if spec.kind == "donut":
        return {"left": 0.02, "right": 0.34, "top": 0.96, "bottom": 0.04}
    legend_room = 0.28 if spec.legend or spec.reference or len(spec.series) > 1 else 0.0
    top = 1 - (0.08 + legend_room) / height
    if spec.kind == "bar":
        return {"left": 0.02, "right": 0.98, "top": top, "bottom": 0.3 / height}
    longest = max((len(shorten(label)) for label in spec.labels), default=10)
    bottom = 0.06
    return {
        "left": min(0.4, (longest * 4.3 + 10) / (CHART_WIDTH_IN * 72)),
        "right": 0.98,
        "top": top,
        "bottom": bottom / height,
    }


def _legend(axes: Any, spec: ChartSpec) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = [Patch(color=color, label=label) for label, color in spec.legend]
    if not handles and len(spec.series) > 1:
        handles = [Patch(color=series.color or PALETTE[i], label=series.name) for i, series in enumerate(spec.series)]
    if spec.reference is not None:
        value, label = spec.reference
        handles.append(
            Line2D([], [], color=NAVY, linestyle="--", linewidth=1, label=f"{label} {_compact(value, spec.unit)}")
        )
    if handles:
        axes.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0, 1.0),
            ncol=len(handles),
            frameon=False,
            fontsize=7.5,
            handlelength=1.4,
            borderaxespad=0.2,
        )


def _text_color_on(color: str) -> str:
    """Dark text on light fills, white text on dark ones."""
    red, green, blue = (int(color[index : index + 2], 16) for index in (1, 3, 5))
    return INK if 0.299 * red + 0.587 * green + 0.114 * blue > 160 else "white"


def _draw_bars(axes: Any, spec: ChartSpec, horizontal: bool) -> None:
    """Bars with their values written on them and their categories written beside them.

    Both axes are hidden and the words are plain texts: matplotlib's tick machinery would
    cost more than everything else on the chart together.
    """
    ends = _bars(axes, spec, horizontal)
    reference = spec.reference[0] if spec.reference else 0.0
    limit = max(max(value for _, value, _ in ends), reference) * (1.12 if horizontal else 1.1) or 1.0
    _write_values(axes, spec, ends, limit, horizontal)
    _write_categories(axes, spec, limit, horizontal)
    axes.xaxis.set_visible(False)
    axes.yaxis.set_visible(False)
    for side in ("top", "right", "bottom" if horizontal else "left"):
        axes.spines[side].set_visible(False)
    axes.spines["left" if horizontal else "bottom"].set_color("#B8C0CC")
    if spec.reference is not None:
        line = axes.axvline if horizontal else axes.axhline
        line(spec.reference[0], color=NAVY, linestyle="--", linewidth=1)
    _legend(axes, spec)


def _grouped(spec: ChartSpec) -> bool:
    """Whether the series stand side by side (several, not stacked)."""
    return len(spec.series) > 1 and not spec.stacked


def _bars(axes: Any, spec: ChartSpec, horizontal: bool) -> list[tuple[float, float, str]]:
    """Draw every series' bars; return where each bar that gets a value written ends, and its colour."""
    count, series_count = len(spec.labels), len(spec.series)
    grouped = _grouped(spec)
    thickness = 0.74 / series_count if grouped else 0.68
    base = [0.0] * count
    ends: list[tuple[float, float, str]] = []
    for index, series in enumerate(spec.series):
        color = series.color or PALETTE[index]
        colors = spec.bar_colors if spec.bar_colors and series_count == 1 else (color,) * count
        offset = (index - (series_count - 1) / 2) * thickness if grouped else 0.0
        spots = [position + offset for position in range(count)]
        if horizontal:
            axes.barh(spots, series.values, height=thickness, left=base, color=colors)
        else:
            axes.bar(spots, series.values, width=thickness, bottom=base, color=colors)
        tops = [low + value for low, value in zip(base, series.values, strict=True)]
        if spec.stacked:
            base = tops
        if grouped or index == series_count - 1:
            ends.extend(zip(spots, tops, colors, strict=True))
    return ends


def _write_values(
    axes: Any, spec: ChartSpec, ends: list[tuple[float, float, str]], limit: float, horizontal: bool
) -> None:
    """Each bar's value, inside a long bar of a single series, else just past its end."""
    size = 6.5 if _grouped(spec) else 7.0
    for spot, value, color in ends:
        # A single series' long bars carry their value inside, clear of any reference line.
        inside = len(spec.series) == 1 and value >= 0.22 * limit
        text = _compact(value, spec.unit) if value else ""
        ink = _text_color_on(color) if inside else INK
        if horizontal:
            x, align = (value - limit * 0.008, "right") if inside else (value + limit * 0.006, "left")
            axes.text(x, spot, text, ha=align, va="center", fontsize=size, color=ink)
        else:
            y, align = (value - limit * 0.015, "top") if inside else (value + limit * 0.01, "bottom")
            axes.text(spot, y, text, ha="center", va=align, fontsize=size, color=ink)


def _write_categories(axes: Any, spec: ChartSpec, limit: float, horizontal: bool) -> None:
    """The axes' limits, and each category's name beside its bar (left of it, or under it)."""
    from matplotlib.transforms import blended_transform_factory

    count = len(spec.labels)
    if horizontal:
        axes.set_xlim(0, limit)
        axes.set_ylim(count - 0.5, -0.5)  # first category on top
        names = blended_transform_factory(axes.transAxes, axes.transData)
        for position, label in enumerate(spec.labels):
            axes.text(
                -0.01, position, shorten(label), transform=names, ha="right", va="center", fontsize=7.5, color=INK
            )
    else:
        axes.set_ylim(0, limit)
        axes.set_xlim(-0.5, count - 0.5)
        names = blended_transform_factory(axes.transData, axes.transAxes)
        for position, label in enumerate(spec.labels):
            axes.text(
                position, -0.03, shorten(label, 18), transform=names, ha="center", va="top", fontsize=7.5, color=INK
            )


def _draw_donut(axes: Any, spec: ChartSpec) -> None:
    values = spec.series[0].values
    colors = spec.bar_colors or PALETTE
    wedges, _ = axes.pie(
        values,
        colors=colors[: len(values)],
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.36, "edgecolor": "white", "linewidth": 1.5},
    )
    total = sum(values)
    axes.set_aspect("equal")
    axes.text(0, 0, _compact(total, spec.unit), ha="center", va="center", fontsize=9, fontweight="bold", color=NAVY)
    labels = [
        f"{label}: {_legend_value(value, spec.unit)} ({share_pct(value, total):.0f}%)"
        for label, value in zip(spec.labels, values, strict=True)
    ]
    axes.legend(wedges, labels, loc="center left", bbox_to_anchor=(1.05, 0.5), frameon=False, fontsize=8.5)


_DRAWERS: dict[ChartKind, Callable[[Any, ChartSpec], None]] = {
    "barh": partial(_draw_bars, horizontal=True),
    "bar": partial(_draw_bars, horizontal=False),
    "donut": _draw_donut,
}
