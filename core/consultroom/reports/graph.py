"""The report's graph of appointments per day, drawn here as SVG: readable
without JavaScript, and described for screen readers (the page also shows
the same numbers as a table)."""

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 200
TOP, BOTTOM, LEFT = 10, 24, 30


def _scale(peak):
    """A round top for the axis: 1, 2, 5, 10, 20, 50…"""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if peak <= step * factor:
                return step * factor
        step *= 10


def bars_svg(days, title, description, labels):
    """Stacked bars per day: held (primary colour) and no-shows (accent).
    ``days``: ``[(date, Counts)]``; ``labels``: the two series' names."""
    top = _scale(max([counts.held + counts.no_shows for _day, counts in days] + [1]))
    plot = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT) / max(len(days), 1)
    bar = max(slot * 0.7, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'role="img" aria-labelledby="usage-graph-title usage-graph-desc" class="usage-graph">',
        f'<title id="usage-graph-title">{escape(title)}</title>',
        f'<desc id="usage-graph-desc">{escape(description)}</desc>',
        f'<line x1="{LEFT}" y1="{TOP + plot}" x2="{WIDTH}" y2="{TOP + plot}" class="axis"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end" class="tick">{top}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + plot}" text-anchor="end" class="tick">0</text>',
    ]
    for n, (day, counts) in enumerate(days):
        x = LEFT + n * slot + (slot - bar) / 2
        base = TOP + plot
        for value, kind in ((counts.held, "held"), (counts.no_shows, "no-show")):
            if not value:
                continue
            height = plot * value / top
            base -= height
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'class="{kind}"><title>{day.isoformat()}: {value}</title></rect>'
            )
        if day.day == 1 or n == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 6}" class="tick">{day.strftime("%d-%m")}</text>'
            )
    legend_x = WIDTH - 200
    for n, (kind, label) in enumerate(zip(("held", "no-show"), labels, strict=True)):
        y = TOP + 4 + n * 16
        parts.append(f'<rect x="{legend_x}" y="{y}" width="10" height="10" class="{kind}"/>')
        parts.append(f'<text x="{legend_x + 14}" y="{y + 9}" class="tick">{escape(label)}</text>')
    parts.append("</svg>")
    # Numbers, dates and escaped text only.
    svg = "".join(parts)
    return Markup(svg)  # nosec B704
