"""Mutants: deliberately broken kernels the suite must catch.

``fault/mutants/mutants.toml`` lists each mutant: its patch (applied on top
of the series and zsbed's instrumentation), the safety net it removes, the
variants to try it in, and which test cases are expected to catch it. A
mutant is killed when, in every listed variant, at least one of those
cases fails. A mutant that survives is a bug in zsbed: ``make mutants``
then fails.

The mutant is applied to the same patched tree and build directory as a
normal run, so a mutant costs the rebuild of the files it touches (and the
next normal run rebuilds them back).
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from zsbed import paths, tomlfile
from zsbed.errors import ZsbedError
from zsbed.parse import Case
from zsbed.patch import Patch
from zsbed.progress import say

MUTANTS = paths.REPO / "fault" / "mutants" / "mutants.toml"
KEYS = {"name", "patch", "guards", "variants", "caught_by"}
OPTIONAL = {"scenario"}     # run this fault scenario instead of the selftest plan


@dataclass(frozen=True)
class Mutant:
    """One deliberately broken kernel."""

    name: str
    patch: Patch
    guards: str                  # the safety net the patch removes
    variants: tuple[str, ...]
    caught_by: tuple[str, ...]   # case-name substrings expected to fail
    scenario: str | None = None


def load(path: Path = MUTANTS) -> list[Mutant]:
    """Read mutants.toml; one-line errors name the file, entry and key."""
    where = paths.show(path)
    data = tomlfile.read(path)
    entries = data.get("mutant")
    if not isinstance(entries, list) or not entries:
        raise ZsbedError(f"{where}: no [[mutant]] entries")
    mutants = []
    for index, entry in enumerate(entries, 1):
        label = f"{where}: [[mutant]] #{index}"
        unknown = set(entry) - KEYS - OPTIONAL
        if unknown:
            raise ZsbedError(f"{label}: unknown key '{sorted(unknown)[0]}'")
        for key in KEYS:
            if key not in entry:
                raise ZsbedError(f"{label}: missing key '{key}'")
        for key in ("variants", "caught_by"):
            value = entry[key]
            if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
                raise ZsbedError(f"{label} ({entry['name']}): '{key}' must be a non-empty list of strings")
        patch_file = path.parent / str(entry["patch"])
        try:
            text = patch_file.read_text()
        except OSError as exc:
            raise ZsbedError(f"{label} ({entry['name']}): patch {entry['patch']}: {exc.strerror}") from exc
        mutants.append(Mutant(name=str(entry["name"]), guards=str(entry["guards"]),
                              patch=Patch(name=paths.show(patch_file), text=text),
                              variants=tuple(entry["variants"]),
                              caught_by=tuple(entry["caught_by"]),
                              scenario=entry.get("scenario")))
    return mutants


def verdict(mutant: Mutant, cases: list[Case]) -> tuple[bool, list[str], str]:
    """(killed, the expected cases that failed, how) for one run of a mutant."""
    failed = [c for c in cases if c.outcome in ("failed", "error")]
    catching = [c for c in failed if any(key in c.name for key in mutant.caught_by)]
    how = "; ".join(f"{c.name}: {c.message}"[:160] for c in catching[:3])
    return bool(catching), [c.name for c in catching], how


def run_all(args: argparse.Namespace,
            run_cases: Callable[[argparse.Namespace, Mutant, str, Path], list[Case]],
            only: str | None, results: Path) -> int:
    """Run every mutant (or ``only``); print the table; 1 if any survived."""
    mutants = load()
    if only:
        mutants = [m for m in mutants if m.name == only]
        if not mutants:
            raise ZsbedError(f"MUTANT={only}: not in {paths.show(MUTANTS)}")
    rows: list[dict[str, Any]] = []
    for mutant in mutants:
        for variant in mutant.variants:
            say(f"[mutants] {mutant.name} ({variant}): removes {mutant.guards}")
            cases = run_cases(args, mutant, variant, results / f"{mutant.name}-{variant}")
            killed, names, how = verdict(mutant, cases)
            rows.append({"mutant": mutant.name, "variant": variant, "guards": mutant.guards,
                         "killed": killed, "caught_by": names, "how": how})
    (results / "mutants.json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = ["| mutant | variant | removes | verdict | caught by | how |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['mutant']} | {r['variant']} | {r['guards']} | "
                     f"{'killed' if r['killed'] else 'SURVIVED'} | "
                     f"{', '.join(r['caught_by'][:3])} | {r['how']} |")
    table = "\n".join(lines)
    (results / "mutants.md").write_text(table + "\n")
    print(table)
    survivors = [r for r in rows if not r["killed"]]
    say(f"[mutants] {len(rows) - len(survivors)} of {len(rows)} killed; "
        f"table: {paths.show(results / 'mutants.md')}")
    return 1 if survivors else 0
