"""``make merge RESULTS="dir..."``: results directories as one report.

The directories are the shards of split runs (``SHARD=i/N``) and whole
runs (shard 1 of 1), e.g. every artifact of the CI matrix. Each says in
its ``shard.json`` which shard of which part it is. The merge writes a new
``results/<run-id>-merged/``:

- ``summary.json``: every shard's tests, each with its ``part``; the
  counts over all of them;
- ``junit.xml``: one ``<testsuite>`` per part, holding its shards' cases;
- ``mutation/``: the mutation shards scored together (``mutation_report.merge``);
- ``mutants.json``/``.md``, ``flaky.json``/``.md``: the shards' rows, in
  the order one unsharded run has them (``mutants.conclude``,
  ``flaky.conclude``);
- ``coverage/``: a whole run's report as it is; for shards, ``coverage.report``
  and ``coverage.conclude`` over the union of their phase tracefiles;
- ``merge.json``/``merge.md``: the shards and what is wrong with them.

It fails (1) when ``verdict.shard_problems`` finds a shard missing, not
finished or failed, or a part that ``MATRIX=1`` expects absent, and when
the merged coverage misses a site. It decides nothing else.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from zsbed.core import mdtable
from zsbed.ci import matrix
from zsbed.core import deps, disk, paths
from zsbed.coverage import coverage
from zsbed.mutants import handwritten as mutants
from zsbed.results import report, shard
from zsbed.verdict import flaky, verdict
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say

COUNTS = ("tests", "failures", "errors", "skipped")


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes().decode())
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else type(exc).__name__
        raise ZsbedError(f"{paths.show(path)}: cannot be read ({why})") from None


def grouped(records: list[shard.Record], expect: list[str]) -> dict[str, list[shard.Record]]:
    """Records per part, in shard order; parts in ``expect``'s order, then by name."""
    parts: dict[str, list[shard.Record]] = {}
    for r in records:
        parts.setdefault(r.part, []).append(r)
    order = sorted(parts, key=lambda p: (expect.index(p) if p in expect else len(expect), p))
    return {p: sorted(parts[p], key=lambda r: r.shard.index) for p in order}


def tests(parts: dict[str, list[shard.Record]]) -> list[dict[str, Any]]:
    """summary.json's tests of every shard, each marked with its part."""
    out = []
    for part, recs in parts.items():
        for r in recs:
            if (r.path / "summary.json").is_file():
                out += [{**t, "part": part} for t in read_json(r.path / "summary.json")["tests"]]
    return out


def junit(parts: dict[str, list[shard.Record]], out: Path) -> None:
    """One <testsuite> per part with its shards' <testcase>s, counts added up."""
    root = ElementTree.Element("testsuites", name="zsbed")
    total = dict.fromkeys(COUNTS, 0)
    for part, recs in parts.items():
        suite: ElementTree.Element | None = None
        counts = dict.fromkeys(COUNTS, 0)
        seconds = 0.0
        for r in recs:
            f = r.path / "junit.xml"
            if not f.is_file():
                continue
            try:
                tree = ElementTree.parse(f)
            except (ElementTree.ParseError, OSError) as exc:
                raise ZsbedError(f"{paths.show(f)}: not JUnit XML ({exc})") from None
            for s in tree.getroot().iter("testsuite"):
                if suite is None:
                    suite = ElementTree.SubElement(root, "testsuite", dict(s.attrib))
                for key in COUNTS:
                    counts[key] += int(s.get(key, "0"))
                seconds += float(s.get("time", "0"))
                suite.extend(s.findall("testcase"))
        if suite is None:
            continue
        suite.set("name", part)
        suite.set("time", f"{seconds:.3f}")
        for key in COUNTS:
            suite.set(key, str(counts[key]))
            total[key] += counts[key]
    for key in COUNTS:
        root.set(key, str(total[key]))
    disk.write_bytes(out, ElementTree.tostring(root, encoding="utf-8", xml_declaration=True))


def mutant_rows(recs: list[shard.Record]) -> list[dict[str, Any]]:
    """The shards' mutants.json rows, in the order of the whole list."""
    rows = [row for r in recs if (r.path / "mutants.json").is_file()
            for row in read_json(r.path / "mutants.json")]
    whole = list(recs[0].whole)

    def place(row: dict[str, Any]) -> int:
        e = f"{row['mutant']}:{row['variant']}"
        return whole.index(e) if e in whole else len(whole)

    return sorted(rows, key=place)


def merge_flaky(recs: list[shard.Record], run: Path) -> int:
    data = [read_json(r.path / flaky.JSON) for r in recs if (r.path / flaky.JSON).is_file()]
    if not data:
        return 0
    variants = [v for d in data for v in d["variants"]]
    return flaky.conclude(run, max(d["runs"] for d in data), variants,
                          sum(d.get("scenarios", 0) for d in data),
                          verdict.merge_flaky_rows(d["cases"] for d in data))


def _copy(src: str, dst: str) -> None:
    disk.write_bytes(Path(dst), Path(src).read_bytes())


def merge_coverage(recs: list[shard.Record], run: Path) -> int:
    """A whole run's report as it is (its exit judged its sites); for shards,
    the report and the site verdict over the union of their tracefiles."""
    out = run / "coverage"
    if len(recs) == 1 and recs[0].shard.count == 1:
        if (recs[0].path / "coverage").is_dir():
            with disk.writing(out):
                shutil.copytree(recs[0].path / "coverage", out, copy_function=_copy)
        return 0
    sources = [r.path / coverage.SOURCES for r in recs if (r.path / coverage.SOURCES).is_dir()]
    if not sources:
        return 0
    for f in coverage.FILES:
        differ = [s for s in sources[1:] if (s / f).read_bytes() != (sources[0] / f).read_bytes()]
        if differ:
            raise ZsbedError(f"{paths.show(differ[0] / f)}: differs from "
                             f"{paths.show(sources[0] / f)}: the coverage shards did not "
                             f"build the same series")
    deps.ensure(coverage=True)
    traces = coverage.saved_traces([r.path for r in recs], list(recs[0].whole))
    results, files = coverage.report(sources[0], traces, out)
    return coverage.conclude(results, files, out)


def cases(run: Path) -> list[tuple[str, str]]:
    """(case, outcome) of a merged run, to compare with another case for case
    (``verdict.differences``): its tests (part, variant, name), and its
    mutants' verdicts."""
    out = [(f"{t.get('part', '')} {t['variant']} {t['name']}", t["outcome"])
           for t in read_json(run / "summary.json")["tests"]]
    if (run / "mutants.json").is_file():
        out += [(f"mutants {r['variant']} {r['mutant']}", r["verdict"])
                for r in read_json(run / "mutants.json")]
    if (run / "mutation" / "mutants.json").is_file():
        out += [(f"mutation {r['id']}", r["fate"])
                for r in read_json(run / "mutation" / "mutants.json")]
    return out


def table(parts: dict[str, list[shard.Record]]) -> str:
    return "\n".join(mdtable.table(
        ["part", "shard", "entries", "exit", "results"],
        [(part, r.shard, len(r.entries), "not finished" if r.exit is None else r.exit,
          paths.show(r.path)) for part, recs in parts.items() for r in recs], right={2}))


def merge(dirs: list[Path], expect_matrix: bool | str = False) -> int:
    """Merge ``dirs`` into a new results directory; 1 if a shard is missing or
    failed (or, with ``expect_matrix``, a part of the CI matrix is absent:
    ``"gate"``, of the gate only; ``True`` or ``"full"``, of both tiers)."""
    if not dirs:
        raise ZsbedError('RESULTS=: name the results directories to merge '
                         '(make merge RESULTS="dir...")')
    records = [shard.read(d) for d in dirs]
    expect = matrix.parts("gate" if expect_matrix == "gate" else None) if expect_matrix else []
    problems = verdict.shard_problems(records, expect)
    parts = grouped(records, expect)
    run = report.new_run("merged")
    entries = tests(parts)
    report.write_summary(run, entries)
    junit(parts, run / "junit.xml")
    code = 0
    if "mutants" in parts:
        code |= mutants.conclude(mutant_rows(parts["mutants"]), run)
    if "flaky" in parts:
        code |= merge_flaky(parts["flaky"], run)
    if "mutation" in parts:
        from zsbed.mutants import score as mutation_report
        code |= mutation_report.merge([r.path / "mutation" for r in parts["mutation"]
                                       if (r.path / "mutation" / "source.json").is_file()],
                                      run / "mutation")
    if "coverage" in parts:
        code |= merge_coverage(parts["coverage"], run)
    shards = table(parts)
    disk.write_json(run / "merge.json", {
        "problems": problems,
        "parts": {p: [{"shard": str(r.shard), "path": paths.show(r.path), "exit": r.exit,
                       "entries": list(r.entries)} for r in recs] for p, recs in parts.items()}})
    disk.write_text(run / "merge.md", shards + "\n\n" + "".join(f"- {p}\n" for p in problems))
    print(shards)
    counts = read_json(run / "summary.json")["counts"]
    say(f"[merge] {len(records)} results directories, {len(parts)} parts, {len(entries)} "
        f"tests: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    for p in problems:
        say(f"[merge] {p}")
    say(f"results: {paths.show(run)} (results/latest): summary.json, junit.xml, merge.md")
    return 1 if problems or code else 0
