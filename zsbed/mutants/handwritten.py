"""Mutants: deliberately broken kernels the suite must catch.

``fault/mutants/mutants.toml`` lists each mutant: its patch (applied on top
of the series and zsbed's instrumentation), the safety net it removes, the
variants to try it in, and the exact test cases (``boot.<boot>``,
``<program>.<case>``; ``*`` stands for one whole dotted part) that are
expected to catch it. ``verdict`` decides: a run kills the mutant only
when one of those cases fails; a failure of any other case is reported
as such and does not count. With ``REPEAT=N`` every variant is booted N
times and the mutant counts as killed only if all N runs killed it
(``race = true`` marks the mutants whose bug is a race). A mutant that
is not killed every time is a bug in zsbed: ``make mutants`` then fails.

The mutant is applied to the same patched tree and build directory as a
normal run, so a mutant costs the rebuild of the files it touches (and the
next normal run rebuilds them back). ``SHARD=i/N`` runs the mutant/variant
pairs of one shard (``shard``); ``make merge`` joins the shards' tables.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from zsbed.core import mdtable
from zsbed.core import disk, paths, textfile, tomlfile
from zsbed.kernel import configure, target
from zsbed.verdict import gates, verdict
from zsbed.core.errors import ZsbedError
from zsbed.plan.parse import Case
from zsbed.kernel.patch import Patch
from zsbed.core.progress import say

MUTANTS = paths.REPO / "fault" / "mutants" / "mutants.toml"
KEYS = {"name", "patch", "guards", "variants", "caught_by"}
OPTIONAL = {"scenario", "race"}   # a fault scenario instead of the plan; a race bug


@dataclass(frozen=True)
class Mutant:
    """One deliberately broken kernel."""

    name: str
    patch: Patch
    guards: str                  # the safety net the patch removes
    variants: tuple[str, ...]
    caught_by: tuple[str, ...]   # exact case ids ('*': one dotted part) expected to fail
    scenario: str | None = None
    race: bool = False


def load(path: Path | None = None) -> list[Mutant]:
    """Read mutants.toml; one-line errors name the file, entry and key."""
    path = path or MUTANTS
    where = paths.show(path)
    data = tomlfile.read(path)
    entries = data.get("mutant")
    if not isinstance(entries, list) or not entries:
        raise ZsbedError(f"{where}: no [[mutant]] entries")
    mutants: list[Mutant] = []
    for index, entry in enumerate(entries, 1):
        label = f"{where}: [[mutant]] #{index}"
        entry = tomlfile.table(label, entry, KEYS, OPTIONAL)
        for key in ("name", "patch", "guards"):
            tomlfile.text(label, entry, key)
        name = entry["name"]
        if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
            raise ZsbedError(f"{label}: name {name!r} must be letters, digits, '_' and '-' "
                             f"(it names a results directory)")
        if any(m.name == name for m in mutants):
            raise ZsbedError(f"{label}: name '{name}' used twice")
        for key in ("variants", "caught_by"):
            tomlfile.texts(f"{label} ({name})", entry, key)
        unknown_variants = [v for v in entry["variants"] if v not in configure.variants()]
        if unknown_variants:
            raise ZsbedError(f"{label} ({name}): variants: no uml-config/"
                             f"{unknown_variants[0]}.config")
        if len({target.of(v).name for v in entry["variants"]}) > 1:
            raise ZsbedError(f"{label} ({name}): variants: UML and x86_64 variants mixed "
                             f"(one mutant runs on one target)")
        scenario = entry.get("scenario")
        if scenario is not None and (not isinstance(scenario, str) or not re.fullmatch(
                r"[A-Za-z0-9_-]+", scenario) or not (paths.REPO / "fault" / f"{scenario}.toml").is_file()):
            raise ZsbedError(f"{label} ({name}): scenario: no fault/{scenario}.toml")
        if not isinstance(entry.get("race", False), bool):
            raise ZsbedError(f"{label} ({name}): 'race' must be true or false")
        patch_file = path.parent / entry["patch"]
        text = textfile.read_text(patch_file, f"{label} ({name}): patch {entry['patch']}")
        mutants.append(Mutant(name=name, guards=entry["guards"],
                              patch=Patch(name=paths.show(patch_file), text=text),
                              variants=tuple(entry["variants"]),
                              caught_by=tuple(entry["caught_by"]),
                              scenario=scenario,
                              race=bool(entry.get("race", False))))
    return mutants


def on_target(m: Mutant, target_name: str) -> bool:
    """A mutant runs on the target of its variants (KCSAN's are x86-only)."""
    return target.of(m.variants[0]).name == target_name


def select(only: str | None, target_name: str = "uml") -> list[Mutant]:
    """Every mutant of ``target_name``, or just ``only`` (MUTANT=)."""
    mutants = load()
    if only:
        mutants = [m for m in mutants if m.name == only]
        if not mutants:
            raise ZsbedError(f"MUTANT={only}: not in {paths.show(MUTANTS)}")
        if not on_target(mutants[0], target_name):
            raise ZsbedError(f"MUTANT={only}: runs on {mutants[0].variants[0]}; "
                             f"add TARGET={target.of(mutants[0].variants[0]).name}")
    return [m for m in mutants if on_target(m, target_name)]


def entry(mutant: Mutant, variant: str) -> str:
    """A mutant in one variant: what SHARD=i/N splits."""
    return f"{mutant.name}:{variant}"


def pairs(mutants: list[Mutant]) -> list[tuple[Mutant, str]]:
    """Every mutant in each of its variants, in the order they run."""
    return [(m, v) for m in mutants for v in m.variants]


def run_all(run_cases: Callable[[Mutant, str, Path], list[Case]],
            chosen: list[tuple[Mutant, str]], results: Path, repeat: int = 1) -> int:
    """Run each (mutant, variant) of ``chosen`` ``repeat`` times; print the
    table; 1 unless every run killed every mutant."""
    rows: list[dict[str, Any]] = []
    for mutant, variant in chosen:
        runs: list[verdict.MutantRun] = []
        for n in range(1, repeat + 1):
            say(f"[mutants] {mutant.name} ({variant}){f', run {n} of {repeat}' if repeat > 1 else ''}: "
                f"removes {mutant.guards}")
            out = results / f"{mutant.name}-{variant}" / (f"run{n}" if repeat > 1 else "")
            runs.append(verdict.mutant_run(mutant.caught_by,
                                           run_cases(mutant, variant, out)))
        rows.append({"mutant": mutant.name, "variant": variant, "guards": mutant.guards,
                     "race": mutant.race, "verdict": verdict.repeated(runs),
                     "kills": sum(r.killed for r in runs), "runs": len(runs),
                     "caught_by": sorted({n for r in runs for n in r.by}),
                     "other": sorted({n for r in runs for n in r.other}),
                     "how": next((r.how for r in runs if r.killed), runs[-1].how),
                     "each": [r.to_json() for r in runs]})
    return conclude(rows, results)


def conclude(rows: list[dict[str, Any]], results: Path) -> int:
    """Write mutants.json and mutants.md, print the table and what was not
    killed; 1 unless every run killed every mutant (a shard's rows, or the
    rows of all shards merged)."""
    disk.write_json(results / "mutants.json", rows)
    table = markdown(rows)
    disk.write_text(results / "mutants.md", table + "\n")
    print(table)
    bad = gates.mutants_not_killed(rows)
    repeats = sorted({r["runs"] for r in rows}) or [1]
    say(f"[mutants] {len(rows) - len(bad)} of {len(rows)} killed in every run "
        f"({'/'.join(map(str, repeats))} run{'s' if repeats != [1] else ''} each); table: "
        f"{paths.show(results / 'mutants.md')}")
    for r in bad:
        say(f"[mutants] {r['mutant']} ({r['variant']}): {r['verdict']}, killed in "
            f"{r['kills']} of {r['runs']} runs"
            + (f"; other cases failed: {', '.join(r['other'][:3])}" if r["other"] else ""))
    return 1 if bad else 0


def markdown(rows: list[dict[str, Any]]) -> str:
    """The mutants table: verdict, kills of runs, the cases that caught it."""
    lines = mdtable.table(["mutant", "variant", "race", "removes", "verdict", "kills",
                           "caught by", "how"], [])
    for r in rows:
        verdict_word = {"killed": "killed", "flaky": "FLAKY KILL",
                        "survived": "SURVIVED"}[r["verdict"]]
        caught = ", ".join(r["caught_by"][:3]) or (
            f"(only other cases: {', '.join(r['other'][:2])})" if r["other"] else "-")
        lines.append(mdtable.row([r["mutant"], r["variant"], "yes" if r["race"] else "",
                                  r["guards"], verdict_word, f"{r['kills']}/{r['runs']}", caught,
                                  r["how"].replace("|", "/")]))
    return "\n".join(lines)
