#!/usr/bin/env python3
"""Turns the output of `cargo bench --bench maps` into docs/bench/.

Reads  target/criterion/<group>/<workload>/<contender>/new/{benchmark,estimates}.json
       target/mapstore-bench/memory.csv
       runtime/plan.rs (the policy's thresholds, to mark them on the plots)
Writes docs/bench/results.csv   one row per timed cell (median and mean ns/op)
       docs/bench/memory.csv    bytes and allocations per entry
       docs/bench/time_vs_size_n<N>.svg  time per op against value size, one
                                line per contender, one panel per workload,
                                plus bytes per entry
       docs/bench/results.md    tables (best marked), crossovers, targets

Standard library only. Usage: python3 tools/bench_report.py [--target DIR] [--out DIR]
"""

import argparse
import csv
import json
import math
import os
import platform
import re
import subprocess
from collections import defaultdict

CONTENDERS = [
    "InlineMap",
    "BoxedMap",
    "PooledMap",
    "MapStore",
    "hashbrown",
    "hashbrown_Box",
    "IndexMap",
    "std_HashMap",
]
LABELS = {
    "InlineMap": "InlineMap",
    "BoxedMap": "BoxedMap",
    "PooledMap": "PooledMap",
    "MapStore": "MapStore (auto)",
    "hashbrown": "hashbrown HashMap<K, V>",
    "hashbrown_Box": "hashbrown HashMap<K, Box<V>>",
    "IndexMap": "IndexMap<K, V>",
    "std_HashMap": "std HashMap<K, V> (SipHash)",
}
COLORS = {
    "InlineMap": "#1f77b4",
    "BoxedMap": "#d62728",
    "PooledMap": "#2ca02c",
    "MapStore": "#000000",
    "hashbrown": "#9467bd",
    "hashbrown_Box": "#ff7f0e",
    "IndexMap": "#8c564b",
    "std_HashMap": "#7f7f7f",
}
DASHED = {"hashbrown", "hashbrown_Box", "IndexMap", "std_HashMap"}
WORKLOADS = [
    "grow_insert",
    "presized_insert",
    "lookup_hit",
    "lookup_miss",
    "churn",
    "iterate",
    "clear_drop",
]
STORAGES = ["InlineMap", "BoxedMap", "PooledMap"]


def parse_group(group):
    key, value, n = group.split("-")
    m = re.fullmatch(r"(pod|own)(\d+)", value)
    return key, m.group(1), int(m.group(2)), int(n[1:])


def load_times(target):
    root = os.path.join(target, "criterion")
    rows = []
    for dirpath, _, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            bench = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            est = json.load(f)
        with open(os.path.join(dirpath, "sample.json")) as f:
            sample = json.load(f)
        fastest = min(t / i for t, i in zip(sample["times"], sample["iters"]))
        key, series, size, n = parse_group(bench["group_id"])
        elements = bench["throughput"]["Elements"]
        rows.append(
            {
                "key": key,
                "series": series,
                "value_size": size,
                "n": n,
                "workload": bench["function_id"],
                "contender": bench["value_str"],
                "ns_per_op": fastest / elements,
                "ns_per_op_median": est["median"]["point_estimate"] / elements,
                "ns_per_op_mean": est["mean"]["point_estimate"] / elements,
                "mean_ci_low": est["mean"]["confidence_interval"]["lower_bound"] / elements,
                "mean_ci_high": est["mean"]["confidence_interval"]["upper_bound"] / elements,
            }
        )
    rows.sort(
        key=lambda r: (
            r["key"],
            r["series"],
            r["n"],
            WORKLOADS.index(r["workload"]),
            r["value_size"],
            CONTENDERS.index(r["contender"]),
        )
    )
    return rows


def load_memory(target):
    path = os.path.join(target, "mapstore-bench", "memory.csv")
    with open(path) as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["series"] = "own" if r["owns_heap"] == "true" else "pod"
        r["value_size"] = int(r["value_size"])
        r["n"] = int(r["n"])
        for k in (
            "bytes_per_entry_end",
            "bytes_per_entry_peak",
            "malloc_bytes_per_entry_end",
            "malloc_bytes_per_entry_peak",
            "allocs_per_entry",
        ):
            r[k] = float(r[k])
    return rows


def policy():
    text = open(os.path.join(os.path.dirname(__file__), "..", "runtime", "plan.rs")).read()

    def const(name):
        m = re.search(r"pub const %s: usize = ([0-9_* ]+);" % name, text)
        return eval(m.group(1).replace("_", ""))  # digits, '*' and spaces only

    return const("INLINE_MAX_SIZE"), const("BOXED_MIN_SIZE")


def chosen(size, inline_max, boxed_min):
    if size >= boxed_min:
        return "BoxedMap"
    return "InlineMap" if size <= inline_max else "PooledMap"


def fmt_ns(x):
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    return "%.2f" % x


# ---------------------------------------------------------------------------
# SVG


def svg_panels(panels, title, inline_max):
    """panels: list of (title, ylabel, {contender: [(size, y)]})."""
    cols = 3
    rows = math.ceil(len(panels) / cols)
    pw, ph = 380, 270
    ml, mr, mt, mb = 58, 12, 30, 40
    legend_h = 70
    width = cols * pw
    height = rows * ph + legend_h + 30
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
        'font-family="sans-serif" font-size="11">' % (width, height),
        '<rect width="100%" height="100%" fill="white"/>',
        '<text x="%d" y="20" font-size="15" text-anchor="middle">%s</text>' % (width / 2, esc(title)),
    ]
    # legend
    for i, c in enumerate(CONTENDERS):
        lx = 20 + (i % 4) * (width - 40) / 4
        ly = 40 + (i // 4) * 20
        dash = ' stroke-dasharray="5,3"' if c in DASHED else ""
        out.append(
            '<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2"%s/>'
            % (lx, ly, lx + 26, ly, COLORS[c], dash)
        )
        out.append('<text x="%.1f" y="%d">%s</text>' % (lx + 32, ly + 4, esc(LABELS[c])))
    for idx, (ptitle, ylabel, series) in enumerate(panels):
        ox = (idx % cols) * pw
        oy = legend_h + 30 + (idx // cols) * ph
        x0, x1 = ox + ml, ox + pw - mr
        y0, y1 = oy + mt, oy + ph - mb
        xs = sorted({s for pts in series.values() for s, _ in pts})
        ys = [y for pts in series.values() for _, y in pts if y > 0]
        if not xs or not ys:
            continue
        lx0, lx1 = math.log2(xs[0]), math.log2(xs[-1])
        if lx1 == lx0:
            lx1 += 1
        ly0, ly1 = math.log10(min(ys)), math.log10(max(ys))
        pad = max(0.05, (ly1 - ly0) * 0.05)
        ly0, ly1 = ly0 - pad, ly1 + pad

        def px(s):
            return x0 + (math.log2(s) - lx0) / (lx1 - lx0) * (x1 - x0)

        def py(v):
            return y1 - (math.log10(v) - ly0) / (ly1 - ly0) * (y1 - y0)

        out.append('<text x="%.1f" y="%d" font-size="13" text-anchor="middle">%s</text>' % ((x0 + x1) / 2, oy + 18, esc(ptitle)))
        out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#999"/>' % (x0, y0, x1 - x0, y1 - y0))
        # y grid: 1, 2, 5 x 10^k
        for e in range(math.floor(ly0) - 1, math.ceil(ly1) + 1):
            for m in (1, 2, 5):
                v = m * 10**e
                if ly0 <= math.log10(v) <= ly1:
                    y = py(v)
                    out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>' % (x0, y, x1, y))
                    out.append('<text x="%.1f" y="%.1f" text-anchor="end">%s</text>' % (x0 - 4, y + 4, tick(v)))
        for s in xs:
            x = px(s)
            out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>' % (x, y0, x, y1))
            out.append('<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>' % (x, y1 + 14, s))
        out.append('<text x="%.1f" y="%.1f" text-anchor="middle">value size (bytes)</text>' % ((x0 + x1) / 2, y1 + 30))
        out.append(
            '<text x="%.1f" y="%.1f" text-anchor="middle" transform="rotate(-90 %.1f %.1f)">%s</text>'
            % (ox + 14, (y0 + y1) / 2, ox + 14, (y0 + y1) / 2, esc(ylabel))
        )
        if xs[0] <= inline_max < xs[-1]:
            x = (px(inline_max) + px(min(s for s in xs if s > inline_max))) / 2
            out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#444" stroke-dasharray="2,3"/>' % (x, y0, x, y1))
            out.append('<text x="%.1f" y="%.1f" font-size="9" fill="#444">INLINE_MAX_SIZE</text>' % (x + 3, y0 + 10))
        for c in CONTENDERS:
            pts = sorted(p for p in series.get(c, []) if p[1] > 0)
            if not pts:
                continue
            dash = ' stroke-dasharray="5,3"' if c in DASHED else ""
            width_ = 2.5 if c == "MapStore" else 1.6
            path = " ".join("%s%.1f,%.1f" % ("M" if i == 0 else "L", px(s), py(v)) for i, (s, v) in enumerate(pts))
            out.append('<path d="%s" fill="none" stroke="%s" stroke-width="%.1f"%s/>' % (path, COLORS[c], width_, dash))
            for s, v in pts:
                out.append('<circle cx="%.1f" cy="%.1f" r="2.2" fill="%s"/>' % (px(s), py(v), COLORS[c]))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def tick(v):
    if v >= 1000:
        return "%gk" % (v / 1000)
    return "%g" % v


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------------------
# Markdown


def table(title, sizes, cells, fmt, unit):
    """cells: {(size, contender): value}; lowest is best and bold."""
    lines = ["**%s** (%s; lowest in bold)" % (title, unit), ""]
    present = [c for c in CONTENDERS if any((s, c) in cells for s in sizes)]
    lines.append("| value size | " + " | ".join(LABELS[c] for c in present) + " |")
    lines.append("|---:|" + "---:|" * len(present))
    for s in sizes:
        vals = {c: cells[(s, c)] for c in present if (s, c) in cells}
        if not vals:
            continue
        best = min(vals.values())
        row = []
        for c in present:
            if c not in vals:
                row.append("")
            elif vals[c] <= best * 1.0000001:
                row.append("**%s**" % fmt(vals[c]))
            else:
                row.append(fmt(vals[c]))
        lines.append("| %d B | %s |" % (s, " | ".join(row)))
    return "\n".join(lines) + "\n"


def crossover(sizes, a, b):
    """Smallest size from which b <= a at every larger measured size."""
    sizes = [s for s in sizes if s in a and s in b]
    if not sizes:
        return "n/a"
    if b[sizes[-1]] > a[sizes[-1]]:
        return "never"
    first = sizes[-1]
    for s in reversed(sizes):
        if b[s] <= a[s]:
            first = s
        else:
            break
    prev = [s for s in sizes if s < first]
    return "%d B" % first if not prev else "%d B (%d B: %.2fx)" % (first, prev[-1], b[prev[-1]] / a[prev[-1]])


def machine():
    model = platform.processor() or "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        nproc = str(os.cpu_count())
    try:
        rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        rustc = "rustc unknown"
    mem = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem = "%.0f GiB RAM" % (int(line.split()[1]) / 2**20)
    except OSError:
        pass
    return "%s, nproc = %s, %s, %s, %s" % (model, nproc, mem, platform.system(), rustc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default=os.environ.get("CARGO_TARGET_DIR", "target"))
    ap.add_argument("--out", default=os.path.join("docs", "bench"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    inline_max, boxed_min = policy()

    times = load_times(args.target)
    memory = load_memory(args.target)
    fields = ["key", "series", "value_size", "n", "workload", "contender", "ns_per_op", "ns_per_op_median", "ns_per_op_mean", "mean_ci_low", "mean_ci_high"]
    with open(os.path.join(args.out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(fields)
        for r in times:
            w.writerow([("%.3f" % r[k]) if isinstance(r[k], float) else r[k] for k in fields])
    mem_fields = ["key", "value", "value_size", "owns_heap", "n", "contender", "bytes_per_entry_end", "bytes_per_entry_peak", "malloc_bytes_per_entry_end", "malloc_bytes_per_entry_peak", "allocs_per_entry", "memory_usage_check"]
    with open(os.path.join(args.out, "memory.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(mem_fields)
        for r in memory:
            w.writerow([r[k] for k in mem_fields])

    T = {}
    for r in times:
        T[(r["key"], r["series"], r["n"], r["workload"], r["value_size"], r["contender"])] = r["ns_per_op"]
    M = {}
    for r in memory:
        M[(r["key"], r["series"], r["n"], r["value_size"], r["contender"])] = r
    configs = sorted({(r["key"], r["series"], r["n"]) for r in times})

    def sizes_of(key, series, n):
        return sorted({k[4] for k in T if k[:3] == (key, series, n)})

    # Plots: u64 keys, pointer-free values, one SVG per N.
    for n in sorted({c[2] for c in configs if c[:2] == ("u64", "pod")}):
        panels = []
        for wl in WORKLOADS:
            series = defaultdict(list)
            for k, v in T.items():
                if k[:4] == ("u64", "pod", n, wl):
                    series[k[5]].append((k[4], v))
            if series:
                panels.append((wl, "ns per op (fastest sample)", series))
        for metric, name in (("bytes_per_entry_peak", "peak bytes/entry while growing"), ("bytes_per_entry_end", "bytes/entry after growing")):
            series = defaultdict(list)
            for k, r in M.items():
                if k[:3] == ("u64", "pod", n):
                    series[k[4]].append((k[3], r[metric]))
            if series:
                panels.append((name, "bytes per entry", series))
        svg = svg_panels(panels, "mapstore benchmarks: u64 keys, pointer-free values, N = %d" % n, inline_max)
        with open(os.path.join(args.out, "time_vs_size_n%d.svg" % n), "w") as f:
            f.write(svg)

    md = []
    md.append("# mapstore benchmark results\n")
    md.append("Generated by `tools/bench_report.py` from `cargo bench --bench maps`. Machine: %s.\n" % machine())
    md.append("Times are ns per operation (one op = one entry inserted, looked up, removed+reinserted, visited or cleared), from the fastest of criterion's 10 samples: the machine is shared (other builds run on its 2 cores), and interference only ever adds time, so the fastest sample is the least disturbed estimate; `results.csv` also has criterion's median and mean. Memory is counted by the bench's global allocator: requested bytes, live at the end of a grow-insert and at the peak during it, per entry.\n")
    md.append("Policy under test: `INLINE_MAX_SIZE = %d`, `BOXED_MIN_SIZE = %d`; `MapStore` uses %s.\n" % (inline_max, boxed_min, "InlineMap up to INLINE_MAX_SIZE, PooledMap above"))

    # Crossovers
    md.append("## Crossovers\n")
    md.append("Smallest value size from which the second storage is at least as good as the first at every larger measured size (in brackets: the ratio second/first at the size just below).\n")
    md.append("| keys, values, N | metric | PooledMap beats InlineMap from | BoxedMap beats PooledMap from |")
    md.append("|---|---|---|---|")
    for key, series, n in configs:
        sizes = sizes_of(key, series, n)
        for wl in WORKLOADS:
            per = {c: {s: T[(key, series, n, wl, s, c)] for s in sizes if (key, series, n, wl, s, c) in T} for c in STORAGES}
            if not per["InlineMap"]:
                continue
            md.append("| %s, %s, %d | %s | %s | %s |" % (key, series, n, wl, crossover(sizes, per["InlineMap"], per["PooledMap"]), crossover(sizes, per["PooledMap"], per["BoxedMap"])))
        for metric in ("bytes_per_entry_peak", "bytes_per_entry_end", "malloc_bytes_per_entry_end"):
            per = {c: {s: M[(key, series, n, s, c)][metric] for s in sizes if (key, series, n, s, c) in M} for c in STORAGES}
            if per["InlineMap"]:
                md.append("| %s, %s, %d | %s | %s | %s |" % (key, series, n, metric, crossover(sizes, per["InlineMap"], per["PooledMap"]), crossover(sizes, per["PooledMap"], per["BoxedMap"])))
    md.append("")

    # Targets
    md.append("## Targets\n")
    t1, t1_policy, t1_wrap = [], [], []
    t4 = []
    cells = 0
    for k, v in T.items():
        key, series, n, wl, s, c = k
        if c != "MapStore":
            continue
        cells += 1
        st = [T.get((key, series, n, wl, s, x)) for x in STORAGES]
        if None in st:
            continue
        best = min(st)
        picked = T[(key, series, n, wl, s, chosen(s, inline_max, boxed_min))]
        if v > 1.05 * best:
            t1.append((v / best, k, STORAGES[st.index(best)], picked / best))
        if picked > 1.05 * best:
            t1_policy.append((picked / best, k, STORAGES[st.index(best)]))
        ix = T.get((key, series, n, wl, s, "IndexMap"))
        if ix and v > 1.10 * ix:
            t4.append((v / ix, k))
    md.append("### MapStore within 1.05x of the best of the three storages in every cell\n")
    md.append("%d of %d cells miss (MapStore vs the best storage). In %d cells the storage the policy picks is itself more than 1.05x slower than the best one (a policy miss, rather than noise between two runs of the same code).\n" % (len(t1), cells, len(t1_policy)))
    md.append("| ratio | cell (key, values, N, workload, size) | best storage | picked storage / best |")
    md.append("|---:|---|---|---:|")
    for r, k, b, p in sorted(t1, reverse=True)[:40]:
        md.append("| %.2f | %s, %s, %d, %s, %d B | %s | %.2f |" % (r, k[0], k[1], k[2], k[3], k[4], b, p))
    md.append("")
    md.append("### Grow-insert vs hashbrown HashMap<K, V> for values >= 256 B (>= 1.5x faster, >= 2x fewer peak bytes/entry)\n")
    md.append("| key, values, N | size | time ratio hashbrown/MapStore | peak bytes/entry hashbrown / MapStore | met |")
    md.append("|---|---:|---:|---|---|")
    for key, series, n in configs:
        for s in sizes_of(key, series, n):
            if s < 256:
                continue
            a = T.get((key, series, n, "grow_insert", s, "hashbrown"))
            b = T.get((key, series, n, "grow_insert", s, "MapStore"))
            ma = M.get((key, series, n, s, "hashbrown"))
            mb = M.get((key, series, n, s, "MapStore"))
            if not (a and b and ma and mb):
                continue
            tr = a / b
            mr = ma["bytes_per_entry_peak"] / mb["bytes_per_entry_peak"]
            md.append("| %s, %s, %d | %d B | %.2fx | %.0f / %.0f = %.2fx | %s |" % (key, series, n, s, tr, ma["bytes_per_entry_peak"], mb["bytes_per_entry_peak"], mr, "yes" if tr >= 1.5 and mr >= 2 else "**no**"))
    md.append("")
    md.append("### Insert vs hashbrown HashMap<K, Box<V>> for values <= 64 B (>= 2x faster, no allocation per insert)\n")
    md.append("| key, values, N | size | grow_insert ratio | presized_insert ratio | MapStore allocs/entry | met |")
    md.append("|---|---:|---:|---:|---:|---|")
    for key, series, n in configs:
        for s in sizes_of(key, series, n):
            if s > 64:
                continue
            g = [T.get((key, series, n, w, s, c)) for w in ("grow_insert", "presized_insert") for c in ("hashbrown_Box", "MapStore")]
            mb = M.get((key, series, n, s, "MapStore"))
            if None in g[:2] or not mb:
                continue
            gr = g[0] / g[1]
            pr = g[2] / g[3] if None not in g[2:] else float("nan")
            ok = gr >= 2 and (math.isnan(pr) or pr >= 2) and mb["allocs_per_entry"] < 0.05
            md.append("| %s, %s, %d | %d B | %.2fx | %.2fx | %.4f | %s |" % (key, series, n, s, gr, pr, mb["allocs_per_entry"], "yes" if ok else "**no**"))
    md.append("")
    md.append("### Never slower than IndexMap by more than 1.10x\n")
    md.append("%d of %d cells miss.\n" % (len(t4), cells))
    md.append("| MapStore / IndexMap | cell (key, values, N, workload, size) |")
    md.append("|---:|---|")
    for r, k in sorted(t4, reverse=True)[:60]:
        md.append("| %.2f | %s, %s, %d, %s, %d B |" % (r, k[0], k[1], k[2], k[3], k[4]))
    md.append("")

    # Tables
    md.append("## Tables\n")
    for key, series, n in configs:
        sizes = sizes_of(key, series, n)
        md.append("### %s keys, %s values, N = %d\n" % (key, "pointer-free" if series == "pod" else "heap-owning (String field)", n))
        for wl in WORKLOADS:
            cells_ = {(s, c): T[(key, series, n, wl, s, c)] for s in sizes for c in CONTENDERS if (key, series, n, wl, s, c) in T}
            if cells_:
                md.append(table("%s, ns/op" % wl, sizes, cells_, fmt_ns, "ns per op"))
        for metric, name in (("bytes_per_entry_end", "bytes/entry after growing"), ("bytes_per_entry_peak", "peak bytes/entry while growing"), ("malloc_bytes_per_entry_end", "bytes/entry after growing, in malloc blocks"), ("allocs_per_entry", "allocations per entry while growing")):
            cells_ = {(s, c): M[(key, series, n, s, c)][metric] for s in sizes for c in CONTENDERS if (key, series, n, s, c) in M}
            if cells_:
                md.append(table(name, sizes, cells_, (lambda x: "%.3f" % x) if metric == "allocs_per_entry" else (lambda x: "%.0f" % x), "per entry"))
    mismatches = [r for r in memory if r["memory_usage_check"] not in ("ok", "n/a")]
    md.append("## memory_usage() cross-check\n")
    md.append("%d mismatches between `memory_usage()` (+ the keys' and values' own heap) and the allocator's live bytes, over %d mapstore rows.\n" % (len(mismatches), sum(1 for r in memory if r["memory_usage_check"] != "n/a")))
    for r in mismatches:
        md.append("- %s %s %s n=%d: %s" % (r["contender"], r["key"], r["value"], r["n"], r["memory_usage_check"]))
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("wrote %s (results.csv, memory.csv, results.md, time_vs_size_n*.svg)" % args.out)


if __name__ == "__main__":
    main()
