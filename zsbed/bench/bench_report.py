"""Benchmark report: ``bench.json`` (from ``make bench``) to bench.md and bench.png.

``make bench`` times the release (munmap, or process exit) of zram-swapped
memory on the kernels fallback, classbits and deferred, for 1, 2 and 4
processes, in interleaved rounds. Every cell shows the median and min–max
over rounds. Speedups are ratios within a round (the kernels of one round ran
back to back, so machine drift cancels), then median and min–max over rounds;
never a ratio of medians. Failed runs are missing samples: skipped, and a
cell with fewer samples than rounds says ``[n=k]``.
"""
from __future__ import annotations

import json
import math
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zsbed.bench import stats as bstats
from zsbed.core import disk, mdtable, paths
from zsbed.core.errors import ZsbedError

METRICS = ("release_ms", "drain_ms", "cpu_ms")
TOP_KEYS = ("machine", "kernel", "mib", "rounds", "ncpus", "kernels", "modes", "procs", "samples")
SAMPLE_KEYS = ("round", "kernel", "mode", "procs", *METRICS)
SPEEDUPS = ("fallback/classbits", "classbits/deferred", "fallback/deferred")
Key = tuple[str, int, str]


@dataclass(frozen=True)
class Stat:
    """Median and range of n values."""

    median: float
    lo: float
    hi: float
    n: int


def load(path: Path) -> dict[str, Any]:
    """Read and check bench.json; a ZsbedError names the file and the problem."""
    where = paths.show(path)
    try:
        data = json.loads(path.read_text())
    except OSError as e:
        raise ZsbedError(f"{where}: cannot read: {e.strerror}") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
        raise ZsbedError(f"{where}: not JSON: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ZsbedError(f"{where}: not a JSON object")
    for key in TOP_KEYS:
        if key not in data:
            raise ZsbedError(f"{where}: missing key '{key}'")
        if key in ("kernels", "modes", "procs", "samples") and not isinstance(data[key], list):
            raise ZsbedError(f"{where}: '{key}' must be a list")
    seen = set()
    for i, s in enumerate(data["samples"]):
        if not isinstance(s, dict):
            raise ZsbedError(f"{where}: samples[{i}] is not an object")
        for key in SAMPLE_KEYS:
            if key not in s:
                raise ZsbedError(f"{where}: samples[{i}]: missing key '{key}'")
        for key in METRICS:
            v = s[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < math.inf:
                raise ZsbedError(f"{where}: samples[{i}].{key} must be a number >= 0, not {v!r}")
        for key, known in (("kernel", "kernels"), ("mode", "modes"), ("procs", "procs")):
            if s[key] not in data[known]:
                raise ZsbedError(f"{where}: samples[{i}].{key} {s[key]!r} is not in '{known}'")
        run = (s["round"], s["kernel"], s["mode"], s["procs"])
        if run in seen:
            raise ZsbedError(f"{where}: samples[{i}]: second sample for round {run[0]}, "
                             f"{run[1]}, {run[2]}, {run[3]} procs")
        seen.add(run)
    return data


def stats(values: list[float]) -> Stat:
    """Median, min, max and count of a non-empty list."""
    if not values:
        raise ValueError("stats() of no values")
    return Stat(statistics.median(values), min(values), max(values), len(values))


def cells(data: dict[str, Any]) -> dict[Key, dict[str, Stat]]:
    """(mode, procs, kernel) -> metric -> Stat over the rounds that have a sample."""
    values: dict[Key, dict[str, list[float]]] = {}
    for s in data["samples"]:
        cell = values.setdefault((s["mode"], s["procs"], s["kernel"]), {m: [] for m in METRICS})
        for m in METRICS:
            cell[m].append(float(s[m]))
    return {key: {m: stats(v) for m, v in cell.items()} for key, cell in values.items()}


def ratios(data: dict[str, Any], metric: str = "release_ms",
           pairs: tuple[str, ...] = SPEEDUPS) -> dict[Key, Stat]:
    """(mode, procs, "a/b") -> Stat over rounds of metric(a) / metric(b) in the same round.

    Rounds missing either kernel (or with b at 0) are skipped.
    """
    return {k: stats(v) for k, v in round_ratios(data, metric, pairs).items()}


def intervals(data: dict[str, Any], metric: str = "release_ms",
              pairs: tuple[str, ...] = SPEEDUPS) -> dict[Key, bstats.Interval]:
    """The same ratios' medians with their bootstrap intervals over rounds."""
    return {k: bstats.median_interval(v) for k, v in round_ratios(data, metric, pairs).items()}


def round_ratios(data: dict[str, Any], metric: str,
                 pairs: tuple[str, ...]) -> dict[Key, list[float]]:
    """(mode, procs, "a/b") -> metric(a) / metric(b) of each round that has both."""
    run = {(s["mode"], s["procs"], s["kernel"], s["round"]): float(s[metric])
           for s in data["samples"]}
    rounds = sorted({s["round"] for s in data["samples"]})
    out: dict[Key, list[float]] = {}
    for mode in data["modes"]:
        for procs in data["procs"]:
            for pair in pairs:
                a, b = pair.split("/")
                vals = [run[mode, procs, a, r] / run[mode, procs, b, r] for r in rounds
                        if (mode, procs, a, r) in run and run.get((mode, procs, b, r), 0) > 0]
                if vals:
                    out[mode, procs, pair] = vals
    return out


def _procs(n: int) -> str:
    return f"{n} proc" if n == 1 else f"{n} procs"


def spread_warnings(data: dict[str, Any], limit: float = 0.5) -> list[str]:
    """One line per (mode, procs, kernel, metric) whose (hi - lo) / median > limit."""
    found = cells(data)
    out = []
    for mode in data["modes"]:
        for procs in data["procs"]:
            for kernel in data["kernels"]:
                for metric, st in found.get((mode, procs, kernel), {}).items():
                    spread = (st.hi - st.lo) / st.median if st.median > 0 else 0.0
                    if spread > limit:
                        out.append(f"{mode}, {_procs(procs)}, {kernel}: {metric} spread "
                                   f"{spread:.0%} of the median (n={st.n}): "
                                   "do not trust small differences")
    return out


def _cell(st: Stat | None, rounds: int, fmt: str, unit: str = "") -> str:
    if st is None:
        return "–"
    text = f"{st.median:{fmt}}{unit} ({st.lo:{fmt}}–{st.hi:{fmt}})"
    return text if st.n >= rounds else f"{text} [n={st.n}]"


def _ratio_cell(iv: bstats.Interval | None, rounds: int, word: bool) -> str:
    """A ratio: median [interval], and (``word``) what it may claim."""
    if iv is None:
        return "–"
    text = f"{iv.median:.2f}x [{iv.lo:.2f}–{iv.hi:.2f}]"
    text += f" {bstats.speedup_word(iv)}" if word else ""
    return text if iv.n >= rounds else f"{text} [n={iv.n}]"


def _table(title: str, head: list[str], rows: list[list[str]]) -> list[str]:
    return [title, "", *mdtable.table(head, rows, right=range(2, len(head))), ""]


QUEUE = ("queued", "fallback_full", "fallback_contended")


def queue_split(data: dict[str, Any]) -> dict[tuple[str, int], dict[str, Stat]]:
    """(mode, procs) -> Stat of each deferred-queue counter over the runs that have them."""
    values: dict[tuple[str, int], dict[str, list[float]]] = {}
    for smp in data["samples"]:
        if all(k in smp for k in QUEUE):
            per = values.setdefault((smp["mode"], smp["procs"]), {k: [] for k in QUEUE})
            for k in QUEUE:
                per[k].append(float(smp[k]))
    return {key: {k: stats(v) for k, v in per.items()} for key, per in values.items()}


def _queue_table(data: dict[str, Any]) -> list[str]:
    """Table 4: how the deferring kernel's frees were split, if it reported it."""
    split = queue_split(data)
    if not split:
        return []
    rows = []
    for mode in data["modes"]:
        for procs in data["procs"]:
            per = split.get((mode, procs))
            if not per:
                continue
            total = sum(per[k].median for k in QUEUE) or 1.0
            rows.append([mode, str(procs), *(f"{per[k].median:.0f} ({100 * per[k].median / total:.0f}%)"
                                             for k in QUEUE)])
    return _table("Table 4: where the deferring kernel's frees went (handles, median over "
                  "rounds; queued = freed later by the drain, fallback = freed on the "
                  "caller's path)", ["mode", "procs", "queued", "fallback: queue full",
                                     "fallback: lock busy"], rows)


def markdown(data: dict[str, Any]) -> str:
    """The report as Markdown: header, three tables, spread warnings."""
    n, kernels = data["rounds"], data["kernels"]
    found = cells(data)
    expected = n * len(kernels) * len(data["modes"]) * len(data["procs"])

    def table(title: str, metric: str, pairs: dict[str, str]) -> list[str]:
        """pairs: "a/b" ratio -> its column header."""
        rat = intervals(data, metric, tuple(pairs))
        head = ["mode", "procs", *(f"{k} ms" for k in kernels), *pairs.values()]
        rows = [[mode, str(procs),
                 *(_cell(found.get((mode, procs, k), {}).get(metric), n, ".1f") for k in kernels),
                 *(_ratio_cell(rat.get((mode, procs, p)), n, metric == "release_ms")
                   for p in pairs)]
                for mode in data["modes"] for procs in data["procs"]]
        return _table(title, head, rows)

    pairs = {p: f"{p.split('/')[1]} vs {p.split('/')[0]}" for p in SPEEDUPS
             if set(p.split("/")) <= set(kernels)}
    cpu = {p: p for p in ("deferred/fallback",) if set(p.split("/")) <= set(kernels)}
    warnings = spread_warnings(data)
    lines = [
        "# zsmalloc: release of zram-swapped memory", "",
        f"Machine: {data['machine']}; {data.get('target', 'UML')} kernel {data['kernel']}; "
        f"{data['mib']} MiB per process; {n} rounds; {data['ncpus']} CPUs; "
        f"{len(data['samples'])} of {expected} runs have a sample"
        + (f"; failed boots: {', '.join(map(str, data['failed_boots']))}."
           if data.get("failed_boots") else "."), "",
        "ms cells: median (min–max) over rounds; release time is the median over the "
        "processes of a run. `B vs A` is A's time / B's time within each round, then "
        f"the median over rounds (not a ratio of medians) [its {bstats.LEVEL:.0%} bootstrap "
        "interval over rounds]; >1x means B is faster, and a ratio whose interval holds "
        "1x is no difference. "
        "[n=k]: only k rounds have a sample (failed runs are skipped).", "",
        *table("Table 1: release time (munmap, or process exit) per process, ms",
               "release_ms", pairs),
        *table("Table 2: drain time, ms from release start until zram memory is back "
               "at baseline", "drain_ms", {}),
        *table("Table 3: CPU time of the whole machine (all vCPUs) from release start "
               "until memory is back, ms (counted in 10 ms ticks: below ~100 ms a rough "
               "figure); deferred/fallback > 1x means more CPU",
               "cpu_ms", cpu),
        *_queue_table(data),
        "Spread warnings:", "",
        *([f"- {w}" for w in warnings] or ["- no spread warnings"]),
    ]
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    """A gnuplot double-quoted string (\\n in text stays a line break)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def gnuplot_script(data: dict[str, Any], png: Path) -> str:
    """The gnuplot script for plot(): one histogram panel per mode."""
    found, kernels, modes = cells(data), data["kernels"], data["modes"]
    title = (f"zsmalloc: release of {data['mib']} MiB of zram-swapped memory per process\n"
             f"median of {data['rounds']} rounds, bars min-max; "
             f"{data.get('target', 'UML')} kernel {data['kernel']}\n"
             f"{data['machine']}")
    size = f"{450 * len(modes) + 100},520"
    out = ["if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {",
           f"  set terminal pngcairo noenhanced size {size} font ',10'",
           "} else {", f"  set terminal png noenhanced size {size}", "}",
           f"set output {_q(str(png))}", "set datafile missing '?'"]
    for i, mode in enumerate(modes):
        out.append(f"$m{i} << EOD")
        for procs in data["procs"]:
            st = [found.get((mode, procs, k), {}).get("release_ms") for k in kernels]
            out.append(" ".join([str(procs), *(f"{s.median} {s.lo} {s.hi}" if s else "? ? ?"
                                               for s in st)]))
        out.append("EOD")
    out += ["set style data histogram", "set style histogram errorbars gap 1 lw 1",
            "set style fill solid 0.7 border -1", "set yrange [0:*]", "set grid ytics",
            "set key top left", "set xlabel 'processes'",
            "set ylabel 'release time per process, ms'",
            f"set multiplot layout 1,{len(modes)} title {_q(title)}"]
    for i, mode in enumerate(modes):
        series = [f"$m{i} using {2 + 3 * j}:{3 + 3 * j}:{4 + 3 * j}"
                  f"{':xtic(1)' if j == 0 else ''} title {_q(k)}" for j, k in enumerate(kernels)]
        out += [f"set title {_q(mode)}", "plot " + ", ".join(series)]
    return "\n".join(out + ["unset multiplot", "set output", ""])


def plot(data: dict[str, Any], png: Path) -> None:
    """Write the grouped bar chart of median release ms to png with gnuplot."""
    png.unlink(missing_ok=True)
    try:
        proc = subprocess.run(["gnuplot"], input=gnuplot_script(data, png),
                              capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ZsbedError(f"{paths.show(png)}: gnuplot not found "
                         "(apt install gnuplot-nox)") from None
    if proc.returncode != 0 or not png.is_file() or png.stat().st_size == 0:
        tail = (proc.stderr.strip().splitlines() or ["no PNG written"])[-1].strip()
        raise ZsbedError(f"{paths.show(png)}: gnuplot failed: {tail}")


def render(json_path: Path, out_dir: Path) -> tuple[Path, Path]:
    """bench.json -> out_dir/bench.md and out_dir/bench.png."""
    data = load(json_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    md, png = out_dir / "bench.md", out_dir / "bench.png"
    disk.write_text(md, markdown(data))
    plot(data, png)
    return md, png
