"""The line a benchmark prints for each goal it measures. ``benchmarks/run``
collects these lines from every benchmark into one table (the README's);
the rest of a benchmark's output is for reading."""

import json

PREFIX = "FIGURE "


def figure(what, measured, baseline, goal, met):
    """``what`` was ``measured`` against ``baseline`` (both text, with their
    units and ratio), for ``goal``; ``met`` says whether it was reached."""
    record = {"what": what, "measured": measured, "baseline": baseline, "goal": goal}
    print(PREFIX + json.dumps({**record, "met": bool(met)}), flush=True)


def read(output):
    """The figures in a benchmark's ``output``, in order."""
    return [
        json.loads(line[len(PREFIX) :]) for line in output.splitlines() if line.startswith(PREFIX)
    ]
