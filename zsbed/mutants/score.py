"""make mutation's report: the score, the survivors, and the HTML view.

Score = killed / (generated - not compiled - equivalent), where a timeout
kill counts as killed. The ``once`` mutants (a dropped READ_ONCE or
WRITE_ONCE) are scored in their own row: UML has no data-race detector, so
their survival says nothing about the checks that run here.

``fault/mutation/equivalent.toml`` argues survivors equivalent, one entry
per mutant id with its reason. A claim for a mutant that some check kills,
or that does not compile, is an error, and so is a claim for an id the
generator no longer makes: nothing is excluded silently.
"""
from __future__ import annotations

import html
import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from zsbed.core import cfunc, disk, mdtable, pages, paths, tomlfile
from zsbed.mutants import generate as mutation
from zsbed.verdict import gates, verdict
from zsbed.core.errors import ZsbedError
from zsbed.mutants.runner import Source, source_from_json, source_json
from zsbed.core.progress import say

EQUIVALENT = paths.REPO / "fault" / "mutation" / "equivalent.toml"
KILLED = ("killed", "timeout")
COVERAGE_LINK = "<!-- zsbed:mutation -->"
PAGE = Path(__file__).with_name("index.html.j2")     # index.html
COLOURS = {"killed": "#c8f0c8", "timeout": "#c8f0c8", "survived": "#f6c0c0", "flaky": "#f6d0a0",
           "equivalent": "#e0e0e0", "not-compiled": "#f6e7a8", "data-race": "#c8dcf6"}


# A claim's argument, in a fixed form (issue 29): what it rests on, why
# every path through the mutated code is unchanged, and, when the premise
# is about the bed's own state (a knob, a test hook), what proves it.
CLAIM_KEYS = ("premise", "unchanged")
CLAIM_OPTIONAL = ("check", "sites")


def load_equivalent(path: Path | None = None) -> dict[str, str]:
    """id -> the claim's argument; one-line errors name the file and the entry."""
    return _claims(path or EQUIVALENT)[0]


def _claims(path: Path) -> tuple[dict[str, str], dict[str, Sites]]:
    """The claims' arguments and their checkable premises, from one read."""
    where = paths.show(path)
    if not path.is_file():
        return {}, {}
    data = tomlfile.read(path)
    unknown = set(data) - {"equivalent"}
    if unknown:
        raise ZsbedError(f"{where}: unknown table '{sorted(unknown)[0]}' (only [[equivalent]])")
    out: dict[str, str] = {}
    sites: dict[str, Sites] = {}
    for k, entry in enumerate(data.get("equivalent", []), 1):
        label = f"{where}: [[equivalent]] #{k}"
        if (not isinstance(entry, dict) or "id" not in entry
                or not set(CLAIM_KEYS) <= set(entry)
                or set(entry) - {"id", *CLAIM_KEYS, *CLAIM_OPTIONAL}):
            raise ZsbedError(f"{label}: needs exactly the keys 'id', 'premise' and 'unchanged' "
                             "(and 'check' when the premise is about the bed's own state)")
        mid = entry["id"]
        if not isinstance(mid, str) or not re.fullmatch(r"\S+:\d+:[a-z-]+:\d+", mid):
            raise ZsbedError(f"{label}: id {mid!r} is not <file>:<line>:<operator>:<n>")
        parts = []
        for key in (*CLAIM_KEYS, *CLAIM_OPTIONAL):
            if key not in entry or key == "sites":
                continue
            text = entry[key]
            if not isinstance(text, str) or len(text.strip()) < 10:
                raise ZsbedError(f"{label} ({mid}): '{key}' must say it (a sentence)")
            parts.append(f"{key}: {text.strip()}")
        if mid in out:
            raise ZsbedError(f"{label}: {mid} listed twice")
        if "sites" in entry:
            sites[mid] = _sites(label, mid, entry["sites"])
        out[mid] = "; ".join(parts)
    return out, sites


@dataclass(frozen=True)
class Sites:
    """A claim's premise that the bed can check by reading the code: every
    line that matches ``pattern`` (a writer of a field, a caller of a
    function) is in one of ``functions``."""

    pattern: re.Pattern[str]
    functions: tuple[str, ...]


def _sites(label: str, mid: str, raw: Any) -> Sites:
    if (not isinstance(raw, dict) or set(raw) != {"pattern", "functions"}
            or not isinstance(raw["pattern"], str)
            or not isinstance(raw["functions"], list) or not raw["functions"]
            or not all(isinstance(f, str) and re.fullmatch(r"\w+", f) for f in raw["functions"])):
        raise ZsbedError(f"{label} ({mid}): 'sites' needs exactly 'pattern' (a regular "
                         "expression) and 'functions' (a list of C function names)")
    try:
        pattern = re.compile(raw["pattern"])
    except re.error as exc:
        raise ZsbedError(f"{label} ({mid}): sites.pattern: {exc}") from None
    return Sites(pattern, tuple(raw["functions"]))


def load_sites(path: Path | None = None) -> dict[str, Sites]:
    """id -> the claim's checkable premise, for the claims that have one."""
    return _claims(path or EQUIVALENT)[1]


def series_files(patch_texts: Iterable[str]) -> list[str]:
    """The files the patches (the series and zsbed's own) write."""
    found = {m.group(1) for text in patch_texts
             for m in re.finditer(r"^\+\+\+ b/(\S+)", text, re.M)}
    return sorted(found)


def site_problems(tree: Path, files: list[str], sites: dict[str, Sites]) -> list[str]:
    """Every claim whose checkable premise the patched ``tree`` contradicts:
    a matching line outside the claim's functions, or no matching line at
    all (the claim is stale). One line each, naming file, line and function."""
    out = []
    texts = {rel: (tree / rel).read_text(errors="replace").splitlines()
             for rel in files if C_SOURCE.search(rel) and (tree / rel).is_file()}
    funcs = {rel: cfunc.functions(lines) for rel, lines in texts.items()}
    for mid, claim in sorted(sites.items()):
        hits = 0
        for rel, lines in texts.items():
            for n, line in enumerate(lines, 1):
                if not claim.pattern.search(line):
                    continue
                hits += 1
                func = cfunc.function_at(funcs[rel], n)
                if func not in claim.functions:
                    out.append(f"{mid}: claimed equivalent, but {rel}:{n} ({func}) matches "
                               f"its premise's pattern outside {', '.join(claim.functions)}: "
                               f"{line.strip()[:60]}")
        if not hits:
            out.append(f"{mid}: claimed equivalent, but its premise's pattern "
                       f"{claim.pattern.pattern!r} matches no line of the patched tree (stale?)")
    return out


C_SOURCE = re.compile(r"\.[ch]$")


def fates(results: dict[str, dict[str, Any]], chosen: Iterable[str],
          equivalent: dict[str, str]) -> dict[str, str]:
    """Each chosen mutant's final fate; a survivor argued equivalent is 'equivalent'."""
    out = {}
    for mid in chosen:
        fate = results[mid]["fate"]
        out[mid] = "equivalent" if fate == "survived" and mid in equivalent else fate
    return out


def tally(fate_list: list[str]) -> dict[str, Any]:
    """Counts and the score of a group of mutants."""
    count = {f: fate_list.count(f) for f in verdict.MUTATION_FATES}
    killed = count["killed"] + count["timeout"]
    scored = len(fate_list) - count["not-compiled"] - count["equivalent"]
    return {**count, "generated": len(fate_list), "scored": scored,
            "score": round(100.0 * killed / scored, 1) if scored else None}


def score(src: Source, results: dict[str, dict[str, Any]], chosen: list[str],
          equivalent: dict[str, str]) -> dict[str, Any]:
    """score.json: overall (without the data-race row), data race, per file,
    function, patch and operator, and the survivors."""
    final = fates(results, chosen, equivalent)
    by_id = {m.id: m for m in src.mutants}
    funcs = {path: cfunc.functions(lines) for path, lines in src.files.items()}
    groups: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    main: list[str] = []
    race: list[str] = []
    for mid in chosen:
        m = by_id[mid]
        f = final[mid]
        (race if m.data_race else main).append(f)
        if m.data_race:
            continue
        groups["file"][m.path].append(f)
        groups["function"][f"{m.path}:{cfunc.function_at(funcs[m.path], m.line)}"].append(f)
        groups["patch"][src.origin[m.path].get(m.line, "?")].append(f)
        groups["operator"][m.op].append(f)
    survivors = []
    for mid in chosen:
        m = by_id[mid]
        if final[mid] in ("survived", "flaky"):
            survivors.append({"id": mid, "file": m.path, "line": m.line, "op": m.op,
                              "fate": final[mid], "flaky_by": results[mid].get("flaky", []),
                              "function": cfunc.function_at(funcs[m.path], m.line),
                              "patch": src.origin[m.path].get(m.line, "?"),
                              "data_race": m.data_race,
                              "original": m.original.strip(),
                              "mutated": results[mid].get("mutated", [])})
    kills: dict[str, int] = defaultdict(int)
    for mid in chosen:
        if results[mid].get("catcher"):
            kills[results[mid]["catcher"]] += 1
    return {"overall": tally(main), "data_race": tally(race),
            "mutants_in_series": len(src.mutants), "ran": len(chosen),
            "series": src.patches,
            "seconds": round(sum(results[mid].get("seconds", 0) for mid in chosen), 1),
            "per_file": {k: tally(v) for k, v in sorted(groups["file"].items())},
            "per_function": {k: tally(v) for k, v in sorted(groups["function"].items())},
            "per_patch": {k: tally(v) for k, v in sorted(groups["patch"].items())},
            "per_operator": {k: tally(v) for k, v in sorted(groups["operator"].items())},
            "kills_by_catcher": {k: kills[k] for k in sorted(kills, key=lambda k: -kills[k])},
            "survivors": survivors}


def _pct(t: dict[str, Any]) -> str:
    return "-" if t["score"] is None else f"{t['score']:.1f}%"


def _row(name: str, t: dict[str, Any]) -> str:
    return mdtable.row([name, t["generated"], t["killed"], t["timeout"], t["survived"],
                        t["flaky"], t["equivalent"], t["not-compiled"], _pct(t)])


HEAD = "\n".join(mdtable.table(["", "mutants", "killed", "timeout", "survived", "flaky",
                                "equivalent", "not compiled", "score"], []))
_cell = mdtable.cell


def markdown(s: dict[str, Any]) -> str:
    """The score tables and the survivors list."""
    out = ["# make mutation", "", HEAD, _row("**all (scored)**", s["overall"]),
           _row("data race (`once`: needs a data-race detector, not scored)", s["data_race"])]
    for title, key in (("file", "per_file"), ("patch", "per_patch"), ("operator", "per_operator"),
                       ("function", "per_function")):
        out += ["", f"## Per {title}", "", HEAD.replace("| |", f"| {title} |", 1)]
        out += [_row(f"`{k}`", t) for k, t in s[key].items()]
    out += ["", "## Survivors", ""]
    plain = [v for v in s["survivors"] if not v["data_race"]]
    race = [v for v in s["survivors"] if v["data_race"]]
    for title, group in (("Plain survivors", plain),
                         ("Needs a data-race detector (not scored)", race)):
        out += [f"### {title}", ""]
        if not group:
            out += ["none", ""]
            continue
        out += mdtable.table(["file:line", "function", "operator", "patch", "line", "mutated to",
                              "note"], [])
        for v in group:
            mutated = " / ".join(f"`{x}`" if x else "(deleted)" for x in v["mutated"])
            note = (f"flaky kill: {', '.join(v['flaky_by'])} failed once of two boots"
                    if v["fate"] == "flaky" else "")
            out.append(mdtable.row([f"{v['file']}:{v['line']}", v["function"], v["op"], v["patch"],
                                    f"`{_cell(v['original'])}`", _cell(mutated), note]))
        out.append("")
    return "\n".join(out)


def page(src: Source, results: dict[str, dict[str, Any]], chosen: list[str],
         equivalent: dict[str, str], s: dict[str, Any], coverage: Path | None) -> str:
    """The series' added lines, each coloured by the fate of its mutants."""
    final = fates(results, chosen, equivalent)
    by_line: dict[tuple[str, int], list[mutation.Mutant]] = defaultdict(list)
    for m in src.mutants:
        if m.id in final:
            by_line[(m.path, m.line)].append(m)
    worst = ("survived", "flaky", "data-race", "not-compiled", "equivalent", "timeout", "killed")
    files = []
    for path, lines in src.lines.items():
        rows = []
        previous = 0
        for n in lines:
            mine = by_line.get((path, n), [])
            states = ["data-race" if m.data_race and final[m.id] == "survived" else final[m.id]
                      for m in mine]
            note = "; ".join(f"{m.op}: {final[m.id]}"
                             + (f" by {results[m.id]['by'][0]}" if results[m.id].get("by") else "")
                             for m in mine)
            rows.append({"n": n, "text": src.files[path][n - 1], "note": note,
                         "gap": bool(previous) and n != previous + 1,
                         "colour": next((COLOURS[w] for w in worst if w in states), "")})
            previous = n
        files.append({"path": path, "lines": rows})
    return pages.render(PAGE, score=_pct(s["overall"]), o=s["overall"],
                        data_race=s["data_race"]["generated"], ran=s["ran"],
                        in_series=s["mutants_in_series"], colours=list(COLOURS.items()),
                        coverage=str(coverage) if coverage else "", files=files)


def merge(shards: list[Path], out: Path) -> int:
    """Score the shards of one split run together (make merge): their
    ``mutation/`` directories, each with the same source.json."""
    if not shards:
        return 0            # no shard got as far as a report: shard_problems says why
    sources = [json.loads((d / "source.json").read_text()) for d in shards]
    if any(x != sources[0] for x in sources[1:]):
        raise ZsbedError("make merge: the mutation shards were generated from different "
                         "series (their source.json differ)")
    results: dict[str, dict[str, Any]] = {}
    for d in shards:
        for row in json.loads((d / "mutants.json").read_text()):
            results[row["id"]] = row
    src = source_from_json(sources[0])
    chosen = [m.id for m in src.mutants if m.id in results]
    return write(out, out, src, results, chosen, load_equivalent(), None)


def _newest(part: str) -> Path | None:
    """The newest run's <part>/index.html, if any run made one."""
    found = sorted((p for p in paths.RESULTS.glob(f"*/{part}/index.html")
                    if p.parent.parent.name != "latest"), key=lambda p: p.parent.parent.name)
    return found[-1] if found else None


def newest_coverage() -> Path | None:
    """The newest coverage report's index.html."""
    return _newest("coverage")


def link_newest(coverage_index: Path) -> None:
    """A new coverage report links the newest mutation report, if there is one."""
    mutation_index = _newest("mutation")
    if mutation_index:
        link_into(coverage_index, mutation_index, "mutation report: the series' lines "
                  "coloured by their mutants' fate")


def link_into(index: Path, target: Path, text: str) -> None:
    """Put (or replace) one marked link line into a report's index.html."""
    if not index.is_file():
        return
    rel = os.path.relpath(target, index.parent)
    line = f"{COVERAGE_LINK}<p><a href='{html.escape(rel, quote=True)}'>{html.escape(text)}</a></p>"
    body = [x for x in index.read_text().splitlines() if not x.startswith(COVERAGE_LINK)]
    disk.write_text(index, "\n".join(body + [line]) + "\n")


def write(out: Path, state: Path, src: Source, results: dict[str, dict[str, Any]],
          chosen: list[str], equivalent: dict[str, str], min_score: float | None) -> int:
    """score.json, survivors.md and index.html in ``out``; print the score.
    1 on a wrong or stale equivalence claim, or a score below ``min_score``."""
    out.mkdir(parents=True, exist_ok=True)
    ids = {m.id for m in src.mutants}
    problems = [f"{mid}: claimed equivalent, but the generator makes no such mutant (stale: "
                f"the series changed?)" for mid in sorted(equivalent) if mid not in ids]
    problems += verdict.equivalence_problems({mid: results[mid]["fate"] for mid in chosen},
                                             equivalent)
    s = score(src, results, chosen, equivalent)
    s["state"] = paths.show(state)
    # what make merge needs to score shards together
    disk.write_json(out / "source.json", source_json(src))
    disk.write_json(out / "mutants.json", [results[mid] for mid in chosen])
    s["problems"] = problems
    disk.write_json(out / "score.json", s)
    disk.write_text(out / "survivors.md", markdown(s) + "\n")
    # the reports of runs in results/ link each other
    coverage = newest_coverage() if out.resolve().is_relative_to(paths.RESULTS.resolve()) else None
    rel_cov = Path(os.path.relpath(coverage, out)) if coverage else None
    disk.write_text(out / "index.html", page(src, results, chosen, equivalent, s, rel_cov))
    if coverage:
        link_into(coverage, out / "index.html", f"mutation score {_pct(s['overall'])}: "
                  "the series' lines coloured by their mutants' fate")
    o = s["overall"]
    say(f"[mutation] score {_pct(o)}: {o['killed'] + o['timeout']} of {o['scored']} killed "
        f"({o['timeout']} by timeout), {o['survived']} survived, {o['flaky']} killed only once "
        f"of two boots, {o['equivalent']} equivalent, "
        f"{o['not-compiled']} not compiled; data race (not scored): "
        f"{s['data_race']['survived']} of {s['data_race']['generated']} survived; "
        f"{s['seconds'] / 60:.1f} min of mutant time")
    for v in s["survivors"][:20]:
        say(f"[mutation] survived: {v['file']}:{v['line']} {v['op']} ({v['function']}): "
            f"{v['original'][:60]}")
    say(f"results: {paths.show(out)}: score.json, survivors.md, index.html")
    for p in problems:
        say(f"[mutation] {paths.show(EQUIVALENT)}: {p}")
    if problems:
        return 1
    if gates.below_min_score(o["score"], min_score):
        say(f"[mutation] score {_pct(o)} is below MIN_SCORE={min_score:g}")
        return 1
    return 0
