#!/usr/bin/env python3
"""Plot the policy sweep: time (or bytes) per entry against value size, one
panel per goal, for u64 keys and pointer-free values at one N, with
`MapStore` drawn as the storage each goal's thresholds pick.

    python3 tools/sweep_plot.py [docs/bench/sweep.csv]   # writes docs/bench/sweep_n*.svg

Reuses the SVG drawing of tools/bench_report.py and the thresholds parser of
tools/pick_thresholds.py, so the plot shows the policy in runtime/plan.rs.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_report as br  # noqa: E402
import pick_thresholds as pt  # noqa: E402

NAMES = {
    "InlineMap": "InlineMap",
    "BoxedMap": "BoxedMap",
    "PooledMap": "PooledMap",
    "HashMap<K, V>": "hashbrown",
    "HashMap<K, Box<V>>": "hashbrown_Box",
}
UNITS = {
    "balanced": "ns per entry (grow + 3 lookups)",
    "reads": "ns per entry (3 lookups)",
    "writes": "ns per entry (grow, churn, clear)",
    "memory": "bytes per entry (final)",
}


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "docs", "bench", "sweep.csv")
    cells, layout = pt.load(path)
    # The legend lists only what the sweep races.
    br.CONTENDERS = ["InlineMap", "BoxedMap", "PooledMap", "MapStore", "hashbrown", "hashbrown_Box"]
    current = pt.current_thresholds(root)
    for n in (1000, 100000):
        panels = []
        for goal in pt.GOALS:
            series = {}
            for (workload, key, value, size, entries), m in cells.items():
                if (workload, key, value, entries) != (goal, "u64", "pod", n):
                    continue
                for contender, label in NAMES.items():
                    if contender in m:
                        series.setdefault(label, []).append((size, m[contender]))
                picked = pt.pick(size, layout[(workload, key, value, size, entries)][1], current[goal])
                series.setdefault("MapStore", []).append((size, m[picked]))
            panels.append(("%s (inline up to %d B)" % (goal, current[goal][0]), UNITS[goal], series))
        svg = br.svg_panels(
            panels,
            "policy sweep, u64 keys, pointer-free values, N = %d: MapStore is the storage each goal picks" % n,
            inline_max=1 << 40,
        )
        out = os.path.join(root, "docs", "bench", "sweep_n%d.svg" % n)
        with open(out, "w") as f:
            f.write(svg)
        print("wrote", out)


if __name__ == "__main__":
    main()
