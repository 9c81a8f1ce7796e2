#!/usr/bin/env python3
"""Pick the policy thresholds per optimize goal from the sweep's CSV.

    cargo bench --bench sweep               # writes docs/bench/sweep.csv
    python3 tools/pick_thresholds.py [docs/bench/sweep.csv]

For each goal (balanced, reads, writes, memory: the sweep's workload of the
same name) it searches every `inline_max_size` and `boxed_min_size` at the
measured value sizes (plus "never box"), separately for values that own heap
memory (in the sweep those are also exactly the ones that need drop, so the
two cannot be told apart), and keeps the set that minimises:

1. the worst ratio of the picked storage to the best of the three storages;
2. then the number of cells over 1.05x;
3. then the worst ratio of the picked storage (what `MapStore` uses) to the
   better of hashbrown's HashMap<K, V> and HashMap<K, Box<V>>.

It prints the thresholds and the summary lines the sweep prints, for the
current thresholds (read from runtime/plan.rs) and for the picked ones.
`boxed_min_align` is not searched: every swept value is 8-byte aligned.
"""

import csv
import os
import re
import sys
from collections import defaultdict

STORAGES = ["InlineMap", "BoxedMap", "PooledMap"]
HAND = ["HashMap<K, V>", "HashMap<K, Box<V>>"]
GOALS = ["balanced", "reads", "writes", "memory"]
NEVER = 1 << 16  # boxed_min_size that boxes none of the swept sizes
NOISE = {}  # cell -> the spread between two timings of the same map in it


def load(path):
    cells = defaultdict(dict)  # (workload, key, value, size, n) -> {contender: per_entry}
    layout = {}
    global NOISE
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            k = (r["workload"], r["key"], r["value"], int(r["size"]), int(r["n"]))
            cells[k][r["contender"]] = float(r["per_entry"])
            layout[k] = (int(r["align"]), r["owns_heap"] == "true", r["needs_drop"] == "true")
            NOISE[k] = float(r["control_spread"] or 1.0)
    return cells, layout


def current_thresholds(root):
    """Per goal, (inline_max_size, inline_max_size_owning, boxed_min_size) as
    runtime/plan.rs sets them today."""
    path = os.path.join(root, "runtime", "plan.rs")
    try:
        text = open(path).read()
    except OSError:
        return None
    consts = {}
    for name, expr in re.findall(r"pub const ([A-Z_]+): usize = ([0-9_ *<]+);", text):
        value = 1
        for factor in expr.replace("_", "").split("*"):
            base, _, shift = factor.strip().partition("<<")
            value *= int(base) << int(shift or 0)
        consts[name] = value

    def field(body, name):
        m = re.search(r"\b%s: ([A-Z_0-9]+)," % name, body)
        if not m:
            return None
        token = m.group(1)
        return int(token) if token.isdigit() else consts.get(token)

    out = {}
    for goal in GOALS:
        m = re.search(r"pub const %s: Thresholds = Thresholds \{(.*?)\};" % goal.upper(), text, re.S)
        if not m:
            return None
        body = m.group(1)
        t = tuple(field(body, f) for f in ("inline_max_size", "inline_max_size_owning", "boxed_min_size"))
        if None in t:
            return None
        out[goal] = t
    return out


def pick(size, owns_heap, t):
    inline_plain, inline_heap, boxed_min = t
    if size >= boxed_min:
        return "BoxedMap"
    if size <= (inline_heap if owns_heap else inline_plain):
        return "InlineMap"
    return "PooledMap"


def score(cells, layout, goal, t):
    within, worst, worst_at, over = 0, 0.0, "", 0
    within_noise, worst_beyond, beyond_at = 0, 0.0, ""
    hand_worst, hand_at, hand_within = 0.0, "", 0
    n = 0
    for k, m in cells.items():
        if k[0] != goal or not all(s in m for s in STORAGES + HAND):
            continue
        n += 1
        _, key, value, size, entries = k
        picked = pick(size, layout[k][1], t)
        best = min(m[s] for s in STORAGES)
        ratio = m[picked] / best if best > 0 else 1.0
        label = "%s keys, %s%d values, N=%d (%s)" % (key, value, size, entries, picked)
        if ratio <= 1.05:
            within += 1
        else:
            over += 1
        # Beyond the noise: the loss divided by what two timings of one map
        # differed by in the same cell.
        beyond = ratio / max(NOISE.get(k, 1.0), 1.0)
        if beyond <= 1.05:
            within_noise += 1
        if beyond > worst_beyond:
            worst_beyond, beyond_at = beyond, label
        if ratio > worst:
            worst, worst_at = ratio, label
        hand = min(m[h] for h in HAND)
        vs = m[picked] / hand if hand > 0 else 1.0
        if vs <= 1.10:
            hand_within += 1
        if vs > hand_worst:
            hand_worst, hand_at = vs, label
    return {
        "key": (round(worst, 4), over, round(hand_worst, 4)),
        "lines": [
            "%s: picked within 1.05x of the best storage in %d of %d cells, worst %.2fx at %s"
            % (goal, within, n, worst, worst_at),
            "%s: MapStore vs the better of HashMap<K, V> and HashMap<K, Box<V>>: worst %.2fx at %s; within 1.10x in %d of %d cells"
            % (goal, hand_worst, hand_at, hand_within, n),
            "%s: net of each cell's noise (ratio / the cell's same-code spread): within 1.05x in %d of %d cells, worst %.2fx at %s"
            % (goal, within_noise, n, worst_beyond, beyond_at),
        ],
    }


def describe(t):
    plain, heap, boxed = t
    box = "never (no swept size)" if boxed > 4096 else "%d B" % boxed
    shift = "same for heap-owning values" if heap == plain else "heap-owning (= needs_drop) values: inline_max_size %d" % heap
    return "inline_max_size %d, boxed_min_size %s; %s" % (plain, box, shift)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "docs", "bench", "sweep.csv")
    cells, layout = load(path)
    sizes = sorted({k[3] for k in cells})
    if not sizes:
        sys.exit("no cells in %s" % path)
    inline_candidates = [0] + sizes
    current = current_thresholds(root)
    print("from %s: %d cells per goal, sizes %s" % (path, len({k[1:] for k in cells}), sizes))
    for goal in GOALS:
        best = None
        for plain in inline_candidates:
            for heap in inline_candidates:
                for boxed in [s for s in sizes if s > max(plain, heap)] + [NEVER]:
                    t = (plain, heap, boxed)
                    s = score(cells, layout, goal, t)
                    # Ties: prefer the same limit for heap-owning values,
                    # then the larger inline limit (fewer allocations).
                    key = s["key"] + (plain != heap, -plain, -boxed)
                    if best is None or key < best[0]:
                        best = (key, t, s)
        print()
        if current:
            print("%s, current (%s):" % (goal, describe(current[goal])))
            for line in score(cells, layout, goal, current[goal])["lines"]:
                print("    " + line)
        _, t, s = best
        print("%s, picked (%s):" % (goal, describe(t)))
        for line in s["lines"]:
            print("    " + line)


if __name__ == "__main__":
    main()
