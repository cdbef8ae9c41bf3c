#!/usr/bin/python3
"""Draws a corio trace (corio::trace_recorder's Chrome trace JSON) as a PNG: one swimlane per
task, a bar per resumption, and the wake-up arrows from waker to woken.

    scripts/plot_trace.py TRACE.json OUT.png [--from MS] [--to MS] [--max-lanes N] [--title T]

For docs (docs/debugging-chains.md), where ui.perfetto.dev and chrome://tracing are out of
reach; for exploring a trace, those viewers are better (zoom, search, the args of each slice).

What is drawn:
  * lane "event loop" (track 0): the loop's phases that woke somebody (timers, I/O, thread
    callbacks), in grey;
  * one lane per task, named as the recorder named it ("task #3 'fetch'"), in spawn order;
  * a bar per "run" slice, coloured by how the run ended: parked (waiting for something),
    yielded, finished. Runs last microseconds while waits last milliseconds, so every bar is
    drawn at least --min-width of the time axis wide (default 0.4 %): width means "it ran",
    not how long;
  * a dot where a task was spawned;
  * an arrow per wake-up (flow events "s" -> "f"), from the waker's lane to the woken task's
    next run.
Times are milliseconds since the recorder was attached. --from/--to cut a window; --max-lanes
keeps the first N tasks (the loop lane always stays).

Needs python3-matplotlib (Debian; hence /usr/bin/python3).
"""
import argparse
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

COLOURS = {"parked": "#4878d0", "yielded": "#ee854a", "finished": "#6acc64", "loop": "#8c8c8c"}


def load(path):
    with open(path, encoding="utf-8") as f:
        events = json.load(f)["traceEvents"]
    names = {}
    for e in events:
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            names[e["tid"]] = e["args"]["name"]
    return events, names


def ending(run):
    then = run.get("args", {}).get("then", "")
    if then == "finished":
        return "finished"
    if then.startswith("yielded"):
        return "yielded"
    return "parked"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trace")
    ap.add_argument("out")
    ap.add_argument("--from", dest="start", type=float, default=None, help="window start, ms")
    ap.add_argument("--to", dest="end", type=float, default=None, help="window end, ms")
    ap.add_argument("--max-lanes", type=int, default=24)
    ap.add_argument("--min-width", type=float, default=0.004, help="narrowest bar, a fraction of the window")
    ap.add_argument("--title", default=None)
    args = ap.parse_args()

    events, names = load(args.trace)
    ms = lambda us: us / 1000.0  # noqa: E731
    times = [ms(e["ts"]) for e in events if "ts" in e]
    if not times:
        sys.exit("plot_trace: no timed events in " + args.trace)
    start = args.start if args.start is not None else min(times)
    end = args.end if args.end is not None else max(ms(e["ts"] + e.get("dur", 0)) for e in events if "ts" in e)
    span = max(end - start, 1e-6)
    min_w = span * args.min_width

    task_tids = sorted(t for t in names if t != 0)[: args.max_lanes]
    lanes = [0] + task_tids
    row = {tid: i for i, tid in enumerate(lanes)}  # row 0 at the top (the axis is inverted)
    inside = lambda t: start <= t <= end  # noqa: E731

    fig, ax = plt.subplots(figsize=(12, 0.42 * len(lanes) + 1.4))
    for e in events:
        if e.get("ph") != "X" or e["tid"] not in row or not inside(ms(e["ts"])):
            continue
        kind = "loop" if e["tid"] == 0 else ending(e)
        ax.barh(row[e["tid"]], max(ms(e["dur"]), min_w), left=ms(e["ts"]), height=0.6, color=COLOURS[kind])
    for e in events:
        if e.get("ph") == "i" and e.get("name") == "spawn" and e["tid"] in row and inside(ms(e["ts"])):
            ax.plot(ms(e["ts"]), row[e["tid"]], marker="o", markersize=4, color="black")

    starts = {e["id"]: e for e in events if e.get("ph") == "s"}
    for e in events:
        if e.get("ph") != "f" or e["id"] not in starts:
            continue
        s = starts[e["id"]]
        if s["tid"] not in row or e["tid"] not in row or not (inside(ms(s["ts"])) and inside(ms(e["ts"]))):
            continue
        ax.annotate("", xy=(ms(e["ts"]), row[e["tid"]]), xytext=(ms(s["ts"]), row[s["tid"]]),
                    arrowprops=dict(arrowstyle="->", color="#c44e52", lw=0.7, alpha=0.8, shrinkA=0, shrinkB=2))

    ax.set_yticks(range(len(lanes)))
    ax.set_yticklabels([names.get(t, "event loop" if t == 0 else str(t)) for t in lanes], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(start - span * 0.01, end + span * 0.01)
    ax.set_xlabel("ms since the recorder was attached")
    ax.grid(axis="x", color="#dddddd", linewidth=0.5)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in COLOURS.values()]
    labels = ["run, then parked", "run, then yielded", "run, then finished", "loop phase that woke tasks"]
    handles.append(plt.Line2D([0], [0], color="#c44e52", lw=1))
    labels.append("wake-up: waker -> woken")
    ax.legend(handles, labels, fontsize=7, loc="lower right", framealpha=0.9)
    ax.set_title(args.title or args.trace, fontsize=10)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"{args.out}: {len(lanes) - 1} task lanes, {start:.3f}-{end:.3f} ms")


if __name__ == "__main__":
    main()
