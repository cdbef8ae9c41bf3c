#!/usr/bin/python3
"""Draws the peer harness's measurements as PNG bar charts for docs/benchmarks.md and the README.

    bench/plot_peers.py OUT_DIR RAW[:LABEL] [RAW[:LABEL] ...]

RAW is a `raw.txt` from /work/shared/peers/results/<time>/ (one `RUN workload=W peer=P rep=I
key=value ...` line per run; copies live in docs/bench-data/). LABEL names the run in chart
titles, e.g. `echo-c100.txt:"50 -> 100 connections"`. For every workload found, one chart
`OUT_DIR/<file stem>-<workload>.png`: the median over repetitions per peer, with the
repetitions' min-max as an error bar and corio's bar in a colour of its own. Throughput
workloads plot what the harness reports as throughput (higher is better); `echo-rate`, where
every server carries the same load, plots server CPU per round trip (lower is better).

Needs python3-matplotlib (Debian; hence /usr/bin/python3, not a python3 from elsewhere on PATH). The medians are computed exactly as the harness's own
report.py does (statistics.median over the successful runs), so a chart and its table agree.
"""
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

SUBJECT = "corio"

# workload -> (record key, axis label, higher is better)
METRICS = {
    "echo": ("rt_per_s", "round trips / s", True),
    "echo1": ("rt_per_s", "round trips / s", True),
    "bulk": ("mb_per_s", "MB / s", True),
    "echo-rate": ("srv_us_per_rt", "server CPU µs per round trip", False),
    "http": ("req_per_s", "requests / s", True),
    "spawn": ("ops_per_s", "tasks / s", True),
    "sleepers": ("ops_per_s", "sleepers / s", True),
    "timeouts": ("ops_per_s", "timeouts / s", True),
    "pingpong": ("ops_per_s", "passes / s", True),
}


def load(path):
    """The RUN records of one raw file, as dicts; failed and unsupported runs dropped."""
    records = []
    with open(path) as f:
        for line in f:
            if not line.startswith("RUN "):
                continue
            record = dict(tok.partition("=")[::2] for tok in line.split()[1:])
            if "failed" not in record and "unsupported" not in record:
                records.append(record)
    return records


def per_peer(records, workload, key):
    """{peer: [values]} in the order peers first appear."""
    values = {}
    for r in records:
        if r["workload"] == workload and key in r:
            try:
                values.setdefault(r["peer"], []).append(float(r[key]))
            except ValueError:
                pass
    return values


def draw(workload, values, label, out_path):
    key, axis, higher_better = METRICS[workload]
    peers = sorted(values, key=lambda p: statistics.median(values[p]), reverse=higher_better)
    medians = [statistics.median(values[p]) for p in peers]
    low = [m - min(values[p]) for p, m in zip(peers, medians)]
    high = [max(values[p]) - m for p, m in zip(peers, medians)]
    colours = ["#d62728" if p == SUBJECT else "#7f7f7f" for p in peers]

    fig, ax = plt.subplots(figsize=(7, 0.45 * len(peers) + 1.4))
    ax.barh(peers, medians, xerr=[low, high], color=colours, capsize=3)
    ax.invert_yaxis()  # best at the top
    ax.set_xlabel(axis + ("  (higher is better)" if higher_better else "  (lower is better)"))
    ax.set_title(f"{workload}: {label}" if label else workload)
    for y, m in enumerate(medians):  # the label right of the error bar, not on it
        ax.text(m + high[y], y, f"  {m:,.0f}" if m >= 100 else f"  {m:.2f}", va="center", fontsize=8)
    ax.margins(x=0.18)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    out_dir = argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for spec in argv[2:]:
        path, _, label = spec.partition(":")
        records = load(path)
        stem = os.path.splitext(os.path.basename(path))[0]
        for workload in dict.fromkeys(r["workload"] for r in records):
            if workload not in METRICS:
                continue
            values = per_peer(records, workload, METRICS[workload][0])
            if values:
                out_path = os.path.join(out_dir, f"{stem}-{workload}.png")
                draw(workload, values, label, out_path)
                print(out_path)


if __name__ == "__main__":
    main(sys.argv)
