#!/usr/bin/env python3
"""One command of a berth trace (`berth --trace FILE run ...`, docs/trace.md)
as an SVG picture, for the README: one lane per process (berth, the
container's init), in each a row per phase, nested phases indented under
theirs, with its name and duration, a bar on a common time axis in ms
from the command's start, and the init's execve as a line across.  Python's
standard library only.

Usage: bench/trace_plot.py TRACE.json OUT.svg [--command "berth run"] [--width PX]
"""
import argparse
import os
import sys
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import phases  # noqa: E402

ROW, HEAD, FONT = 17, 22, 12
LABEL = 330  # the name and duration column
COLOURS = [("#3b6ea5", "#9dbbe0"), ("#b5642a", "#f0c39d"), ("#4d8b4a", "#b3dbb0"),
           ("#7d4e9c", "#d3b7e6")]  # per lane: the top phases, the nested ones


def nice_step(span, ticks=8):
    """A round tick interval for an axis of span ms."""
    for s in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100):
        if span / s <= ticks:
            return s
    return 200


def plot(cmd, width):
    wall = cmd["wall"]
    plot_w = width - LABEL - 20
    x = lambda ms: LABEL + plot_w * ms / wall  # noqa: E731
    rows = [("lane", f"{cmd['lanes'][0]['name']} (pid {cmd['lanes'][0]['pid']})", 0)]
    rows.append(("span", (0, cmd["name"], 0.0, wall), 0))
    for li, lane in enumerate(cmd["lanes"]):
        if li:
            rows.append(("lane", f"{lane['name']} (pid {lane['pid']})", li))
        rows += [("span", (d + 1, n, s, du), li)
                 for d, n, s, du in lane["spans"] if du is not None]
    instants = [(n, s, li) for li, lane in enumerate(cmd["lanes"])
                for d, n, s, du in lane["spans"] if du is None]
    top = HEAD + 8
    height = top + len(rows) * ROW + HEAD + 18
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Helvetica, Arial, '
           f'sans-serif" font-size="{FONT}">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    step = nice_step(wall)
    t = 0.0
    bottom = top + len(rows) * ROW
    while t <= wall + 1e-9:
        out.append(f'<line x1="{x(t):.1f}" y1="{top - 4}" x2="{x(t):.1f}" y2="{bottom}" '
                   f'stroke="#ddd"/>')
        for y in (top - 8, bottom + 14):
            out.append(f'<text x="{x(t):.1f}" y="{y}" text-anchor="middle" fill="#555">'
                       f'{t:g}</text>')
        t += step
    out.append(f'<text x="{LABEL + plot_w / 2:.0f}" y="{bottom + 30}" text-anchor="middle" '
               f'fill="#555">ms from the start of {escape(cmd["name"])}</text>')
    for i, (kind, what, li) in enumerate(rows):
        y = top + i * ROW
        dark, light = COLOURS[li % len(COLOURS)]
        if kind == "lane":
            out.append(f'<rect x="0" y="{y}" width="{width}" height="{ROW}" fill="#f3f3f3"/>')
            out.append(f'<text x="6" y="{y + ROW - 4}" font-weight="bold">{escape(what)}'
                       f'</text>')
            continue
        depth, name, start, dur = what
        out.append(f'<text x="{8 + 14 * depth}" y="{y + ROW - 4}">{escape(name)}</text>')
        out.append(f'<text x="{LABEL - 8}" y="{y + ROW - 4}" text-anchor="end" '
                   f'fill="#333">{dur:.2f} ms</text>')
        w = max(1.0, x(start + dur) - x(start))
        out.append(f'<rect x="{x(start):.1f}" y="{y + 3}" width="{w:.1f}" height="{ROW - 6}" '
                   f'fill="{dark if depth <= 1 else light}"><title>{escape(name)}: '
                   f'{dur:.3f} ms at +{start:.3f} ms</title></rect>')
    lane_row = {li: i for i, (kind, _, li) in enumerate(rows) if kind == "lane"}
    for name, start, li in instants:
        ly = top + lane_row[li] * ROW
        out.append(f'<line x1="{x(start):.1f}" y1="{top}" x2="{x(start):.1f}" y2="{bottom}" '
                   f'stroke="#c0392b" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{x(start) - 4:.1f}" y="{ly + ROW - 4}" text-anchor="end" '
                   f'fill="#c0392b">{escape(name)} +{start:.2f} ms</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("out")
    ap.add_argument("--command", help='which command of the file (default: the first), e.g. '
                    '"berth run"')
    ap.add_argument("--width", type=int, default=860)
    args = ap.parse_args()
    try:
        commands = phases.load(args.trace)
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"trace_plot: {args.trace}: not a berth trace ({e})")
    pick = [c for c in commands if args.command in (None, c["name"])]
    if not pick:
        sys.exit(f"trace_plot: no {args.command!r} in {args.trace}: "
                 f"{', '.join(c['name'] for c in commands) or 'no commands'}")
    with open(args.out, "w") as f:
        f.write(plot(pick[0], args.width))


if __name__ == "__main__":
    main()
