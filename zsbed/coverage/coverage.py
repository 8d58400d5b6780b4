"""``make coverage``: did the series' fallback paths run, in both lookup modes?

The ``coverage`` variants build mm/zsmalloc.c, zram_drv.c and zswap.c with
gcov (CONFIG_GCOV_KERNEL and per-object GCOV_PROFILE). Every boot of the
run (the KUnit + selftest plan, then each fault scenario) runs
``gcov_collect -r`` first and after every program, which copies the
counters of that phase to its results and resets them: a phase is what
ran at boot (KUnit, in the plan boot) or one program. Each phase becomes a
gcovr tracefile; the tracefiles of a mode are merged into one HTML report,
and the sites of ``fault/coverage/sites.toml`` are looked up in them: hits
per lookup mode, counted in the phases ``verdict.phase_counts`` allows
(a forced site only in its scenarios' workloads), and the first phase that
hit each site.

With ``SHARD=i/N`` a run boots only its shard of the (mode, boot) list and
judges no site: it keeps its phase tracefiles (``<mode>/gcov/<boot>/``)
and a copy of the instrumented sources (``coverage-src/``), and ``make
merge`` runs ``report`` and ``conclude`` over the union of the shards'.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from zsbed.core import cfunc, disk, mdtable, pages, paths, tomlfile
from zsbed.verdict import gates, verdict
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say
from zsbed.plan.program import Program

FAULT_DIR = paths.REPO / "fault"
SITES = FAULT_DIR / "coverage" / "sites.toml"
FILES = ("mm/zsmalloc.c", "drivers/block/zram/zram_drv.c", "mm/zswap.c")
MODES = {"fallback": "coverage", "classbits": "coverage-classbits"}
GCOV_OUT = "/dev/zsbed-out/gcov"      # where gcov_collect writes, inside the guest
PAGE = Path(__file__).with_name("index.html.j2")     # coverage/index.html
SITE_KEYS = {"name", "what", "file", "function", "marker", "modes", "forced_by"}
SOURCES = "coverage-src"              # a run's copy of FILES, for make merge's report


@dataclass(frozen=True)
class Trace:
    """The gcovr tracefile of one phase of one boot."""

    boot: str            # main, fault.<scenario>
    phase: str           # kunit / boot, or the program that ran
    path: Path


def phases(collect: Path) -> Callable[[list[Program], str], list[Program]]:
    """A plan rewriter: collect (and reset) the counters first and after each program."""
    def wrap(programs: list[Program], first: str) -> list[Program]:
        out = [Program("coverage.gcov.0", (str(collect), f"{GCOV_OUT}/{first}", "-r"), 60)]
        for n, prog in enumerate(programs, 1):
            out += [prog, Program(f"coverage.gcov.{n}",
                                  (str(collect), f"{GCOV_OUT}/{prog.name}", "-r"), 60)]
        return out
    return wrap


def tracefiles(src: Path, bdir: Path, results: Path, boots: list[str]) -> list[Trace]:
    """One tracefile per phase of each boot that left counters."""
    out = []
    for boot in boots:
        gcov = results / "ktap" / boot / "gcov"
        for phase_dir in in_run_order(results / "ktap" / boot,
                                      [p for p in gcov.glob("*") if p.is_dir()]):
            trace = results / "gcov" / boot / f"{phase_dir.name}.json"
            trace.parent.mkdir(parents=True, exist_ok=True)
            if tracefile(src, bdir, phase_dir, trace):
                out.append(Trace(boot, phase_dir.name, trace))
        if not any(t.boot == boot for t in out):
            say(f"[coverage] {boot}: no gcov counters (boot crashed?)")
    return out


def in_run_order(ktap: Path, phases: list[Path]) -> list[Path]:
    """The phase directories of a boot in the order they ran: the one before
    the first program (kunit, boot), then each program's, as the plan lists
    them; so that "first hit by" names the first phase that really hit."""
    plan = ktap / "plan"
    order = [line.split()[0] for line in plan.read_text().splitlines()
             if line.strip()] if plan.is_file() else []
    rank = {name: n for n, name in enumerate(order, 1)}
    return sorted(phases, key=lambda p: (rank.get(p.name, 0), p.name))


def entry(mode: str, boot: str) -> str:
    """One boot of a coverage run (``fallback:main``): what SHARD=i/N splits."""
    return f"{mode}:{boot}"


def save_sources(src: Path, run: Path) -> None:
    """Keep the instrumented files with the run: a merge has no patched tree."""
    for f in FILES:
        (run / SOURCES / f).parent.mkdir(parents=True, exist_ok=True)
        disk.write_bytes(run / SOURCES / f, (src / f).read_bytes())


def saved_traces(runs: list[Path], order: list[str]) -> dict[str, list[Trace]]:
    """The phase tracefiles the runs (the shards of one) kept, per mode, in
    the order one unsharded run makes them: its boots in ``order`` (the
    whole run's entries), each boot's phases by name."""
    def place(mode: str, t: Trace) -> tuple[int, str]:
        e = entry(mode, t.boot)
        return (order.index(e) if e in order else len(order), t.phase)

    out: dict[str, list[Trace]] = {}
    for mode in MODES:
        traces = [Trace(f.parent.name, f.name.removesuffix(".json"), f)
                  for run in runs for f in (run / mode / "gcov").glob("*/*.json")]
        if traces:
            out[mode] = sorted(traces, key=lambda t: place(mode, t))
    return out


@dataclass(frozen=True)
class Site:
    name: str
    what: str
    file: str
    function: str
    marker: str
    modes: tuple[str, ...]
    forced_by: tuple[str, ...] = ()     # scenarios whose boots must hit it


@dataclass
class SiteResult:
    site: Site
    line: int
    hits: dict[str, int] = field(default_factory=dict)        # mode -> count
    first: dict[str, str] = field(default_factory=dict)       # mode -> first boot

    def missing(self) -> list[str]:
        """Modes where the site is required but was never hit."""
        return gates.modes_never_hit(self.site.modes, self.hits)


def load_sites(path: Path | None = None) -> list[Site]:
    """Parse the site list; errors name the file, the site and the key."""
    path = path or SITES
    where = paths.show(path)
    data = tomlfile.read(path)
    entries = data.get("site")
    if set(data) - {"site"} or not isinstance(entries, list) or not entries:
        raise ZsbedError(f"{where}: expected only [[site]] entries, at least one")
    sites: list[Site] = []
    for index, entry in enumerate(entries, 1):
        at = f"{where}: site #{index}"
        entry = tomlfile.table(at, entry, optional=SITE_KEYS)
        for key in sorted(SITE_KEYS - {"modes", "forced_by"}):
            tomlfile.text(at, entry, key)
        modes = entry.get("modes")
        if (not isinstance(modes, list) or not modes
                or not all(isinstance(m, str) and m in MODES for m in modes)):
            raise ZsbedError(f"{at} ({entry['name']}): 'modes' must be a non-empty list "
                             f"of {', '.join(MODES)}")
        if entry["file"] not in FILES:
            raise ZsbedError(f"{at} ({entry['name']}): file '{entry['file']}' is not "
                             f"instrumented (only {', '.join(FILES)})")
        if any(s.name == entry["name"] for s in sites):
            raise ZsbedError(f"{at}: name '{entry['name']}' used twice")
        forced = entry.get("forced_by", [])
        if not isinstance(forced, list) or not all(isinstance(f, str) for f in forced):
            raise ZsbedError(f"{at} ({entry['name']}): 'forced_by' must be a list of "
                             f"scenario names")
        missing = [f for f in forced if not (FAULT_DIR / f"{f}.toml").is_file()]
        if missing:
            raise ZsbedError(f"{at} ({entry['name']}): forced_by: no fault/{missing[0]}.toml")
        sites.append(Site(entry["name"], entry["what"], entry["file"], entry["function"],
                          entry["marker"], tuple(modes), tuple(forced)))
    return sites


def locate(site: Site, src: Path) -> int:
    """The 1-based line of ``site`` in the tree ``src``; one-line error if absent."""
    where = f"{paths.show(SITES)}: site {site.name}"
    try:
        text = (src / site.file).read_text(errors="replace")
    except OSError as exc:
        raise ZsbedError(f"{where}: {site.file}: {exc.strerror}") from None
    bodies = cfunc.bodies(text, site.function)
    if not bodies:
        raise ZsbedError(f"{where}: no function {site.function}() in {site.file}")
    lines = text.splitlines()
    found = [n for first, last in bodies for n in range(first, last + 1)
             if site.marker in lines[n - 1]]
    if not found:
        raise ZsbedError(f"{where}: marker '{site.marker}' not found in {site.function}() "
                         f"({site.file})")
    return found[0]


def line_counts(tracefile: dict[str, Any]) -> dict[str, dict[int, int]]:
    """file -> line -> count, from a gcovr JSON tracefile."""
    out: dict[str, dict[int, int]] = {}
    for f in tracefile.get("files", []):
        counts = out.setdefault(f["file"], {})
        for line in f.get("lines", []):
            if line.get("gcovr/noncode"):
                continue
            counts[line["line_number"]] = counts.get(line["line_number"], 0) + line["count"]
    return out


def gcovr(args: list[str], what: str) -> None:
    proc = subprocess.run(["gcovr", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise ZsbedError(f"coverage: gcovr ({what}) failed: {last}")


def tracefile(src: Path, bdir: Path, gcda_dir: Path, out: Path) -> bool:
    """Turn one boot's .gcda files into a gcovr JSON tracefile.

    The .gcda files go next to their .gcno in the build directory (gcov
    needs both), gcovr reads them, and they are removed again. False when
    the boot left no counters.
    """
    rel_bdir = bdir.resolve().relative_to("/")
    placed = []
    for gcda in gcda_dir.rglob("*.gcda"):
        rel = gcda.relative_to(gcda_dir)
        # gcov_collect kept the object's path, which is the build dir's path
        try:
            rel = rel.relative_to(rel_bdir)
        except ValueError:
            continue
        dest = bdir / rel
        shutil.copyfile(gcda, dest)
        placed.append(dest)
    if not placed:
        return False
    try:
        gcovr(["--root", str(src), "--json", str(out), *filters(src), str(bdir)],
              paths.show(gcda_dir))
    finally:
        for dest in placed:
            dest.unlink(missing_ok=True)
    return True


def filters(src: Path) -> list[str]:
    args = []
    for f in FILES:
        args += ["--filter", re.escape(str(src / f))]
    return args


def site_table(results: list[SiteResult]) -> str:
    """Markdown: site, function, hits per mode, first boot that hit it."""
    rows = mdtable.table(["site", "function", "line", "fallback hits", "classbits hits",
                          "first hit by", "counted in"], [])
    for r in results:
        cells = []
        for mode in MODES:
            if mode not in r.site.modes:
                cells.append(f"({r.hits.get(mode, 0)})")
            else:
                cells.append(str(r.hits.get(mode, 0)) if r.hits.get(mode) else "**0**")
        first = "; ".join(f"{m}: {b}" for m, b in r.first.items())
        counted = (", ".join(f"{f} (its workloads)" for f in r.site.forced_by)
                   or "every phase")
        rows.append(mdtable.row([r.site.name, f"{r.site.function}()", f"{r.site.file}:{r.line}",
                                 *cells, first or "-", counted]))
    return "\n".join(rows) + "\n"


def summarize(summary: dict[str, Any]) -> dict[str, dict[str, float]]:
    """file -> line/branch percentages from a gcovr --json-summary."""
    out = {}
    for f in summary.get("files", []):
        out[f["filename"]] = {"line_percent": f.get("line_percent", 0.0),
                              "branch_percent": f.get("branch_percent", 0.0)}
    return out


Files = dict[str, dict[str, dict[str, float]]]    # mode -> file -> line/branch percent


def report(src: Path, boots: dict[str, list[Trace]],
           out: Path) -> tuple[list[SiteResult], Files]:
    """Build the HTML report and sites.json from per-mode phase tracefiles.

    Returns the sites with their hits, and the line/branch figures per mode.
    """
    sites = load_sites()
    results = [SiteResult(s, locate(s, src)) for s in sites]
    per_mode_summary: Files = {}
    out.mkdir(parents=True, exist_ok=True)
    code: set[str] = set()                # sites whose line has code in some trace
    for mode, traces in boots.items():
        for t in traces:
            counts = line_counts(json.loads(t.path.read_text()))
            for r in results:
                if r.line in counts.get(r.site.file, {}):
                    code.add(r.site.name)
                r.hits.setdefault(mode, 0)
                # a forced site counts only in its own scenarios' workloads
                if not verdict.phase_counts(r.site.forced_by, t.boot, t.phase):
                    continue
                hits = counts.get(r.site.file, {}).get(r.line, 0)
                r.hits[mode] = r.hits.get(mode, 0) + hits
                if hits and mode not in r.first:
                    r.first[mode] = f"{t.boot}: {t.phase}"
        if traces:
            # one report per mode: the two builds differ (#if ZS_OBJ_CLASS_BITS),
            # so their functions sit on different lines and cannot be merged
            (out / mode).mkdir(exist_ok=True)
            summary = out / mode / "summary.json"
            gcovr(["--root", str(src), *sum((["--add-tracefile", str(t.path)] for t in traces), []),
                   "--json-summary", str(summary), "--html-details", str(out / mode / "index.html"),
                   "--html-title", f"zsbed coverage, {mode} lookup ({MODES[mode]})"],
                  f"{mode} report")
            per_mode_summary[mode] = summarize(json.loads(summary.read_text()))
    disk.write_text(out / "index.html", index_html(results, per_mode_summary))
    from zsbed.mutants import score as mutation_report
    mutation_report.link_newest(out / "index.html")
    nocode = [r for r in results if r.site.name not in code]
    if any(boots.values()) and nocode:
        r = nocode[0]
        raise ZsbedError(f"{paths.show(SITES)}: site {r.site.name}: {r.site.file}:{r.line} "
                         f"has no code in the gcov data; choose a marker on a line that "
                         f"executes")
    disk.write_json(out / "sites.json", {
        "sites": [{"name": r.site.name, "what": r.site.what, "file": r.site.file,
                   "forced_by": list(r.site.forced_by),
                   "function": r.site.function, "line": r.line, "modes": list(r.site.modes),
                   "hits": r.hits, "first_hit_by": r.first, "missing": r.missing()}
                  for r in results],
        "files": per_mode_summary,
    })
    disk.write_text(out / "sites.md", site_table(results))
    return results, per_mode_summary


def index_html(results: list[SiteResult], files: Files) -> str:
    """The top page: the site table, percentages, links to each mode's report."""
    sites = [{"name": r.site.name, "what": r.site.what, "function": r.site.function,
              "where": f"{r.site.file}:{r.line}",
              "cells": [{"hits": r.hits.get(m, 0), "mine": m in r.site.modes,
                         "bad": m in r.missing()} for m in MODES],
              "first": "; ".join(f"{m}: {b}" for m, b in r.first.items()) or "-"}
             for r in results]
    percent = [{"mode": mode, "file": name, "lines": p["line_percent"],
                "branches": p["branch_percent"]}
               for mode, per_file in files.items() for name, p in per_file.items()]
    return pages.render(PAGE, sites=sites, percent=percent)


def conclude(results: list[SiteResult], files: Files, out: Path) -> int:
    """Print the site table and the figures; 1 if a site was never hit in a
    mode it belongs to (one run, or the shards of one merged)."""
    print(site_table(results))
    for mode, per_file in files.items():
        for name, pct in per_file.items():
            say(f"[coverage] {mode}: {name}: lines {pct['line_percent']:.1f}%, "
                f"branches {pct['branch_percent']:.1f}%")
    missing = [f"{r.site.name} ({', '.join(r.missing())})" for r in results if r.missing()]
    say(f"results: {paths.show(out)}/index.html, sites.json, sites.md")
    if missing:
        say(f"[coverage] FAILED: never hit: {'; '.join(missing)}")
        return 1
    say(f"[coverage] all {len(results)} sites hit in every mode they belong to")
    return 0
