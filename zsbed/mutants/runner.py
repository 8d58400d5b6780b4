"""make mutation: build and boot each generated mutant, keep its fate.

The mutants come from ``mutation.generate`` over the lines the series under
test adds (never zsbed's instrumentation), placed in the whole patched tree
the other commands build. For each mutant the runner:

- applies it on top of that tree and rebuilds each variant it needs, once
  (an incremental build of the touched objects; a build failure is counted
  apart, never as a kill);
- boots the catchers (``Catcher``: KUnit alone, every fault scenario, the
  selftest plan in fast and deep) in order of kills per second of cost
  (``order``), and stops at the first boot with a failing case, which must
  fail again in a second boot to count;
- bounds every boot by a time limit derived from its baseline time; a boot
  killed there is a timeout kill.

Before any mutant, a baseline boots every catcher on the unmutated tree: a
catcher that fails there would make every kill meaningless, so the run stops.
Results are kept per mutant under ``results/mutation-state/<key>/``, where
the key covers the patches and everything that checks them; a rerun resumes
and only runs what is missing. ``mutation_report`` turns the results into
the score. ``verdict.mutant_fate`` decides each mutant's fate.
"""
from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from zsbed.core import disk, paths
from zsbed.mutants import generate as mutation
from zsbed.plan import fault
from zsbed.verdict import verdict
from zsbed.core.errors import ZsbedError
from zsbed.plan.parse import Case
from zsbed.kernel.patch import Patch, apply_to_scratch, split_series
from zsbed.core.progress import say

STATE = paths.RESULTS / "mutation-state"
C_FILE = re.compile(r"\.[ch]$")
LIMIT_FACTOR = 3          # a boot's time limit: this many times its baseline time ...
LIMIT_SLACK = 30          # ... plus this many seconds
# what decides the state's key besides the patches: every input of the checks,
# and the harness's rules of what a failure is (a lockdep report dmesg.py did
# not know once let a mutant survive). Not equivalent.toml: a claim changes
# the report, not a mutant's fate.
CHECK_INPUTS = ("selftests/**/*", "fault/*.toml", "uml-config/**/*", "zsbed/guest/**/*",
                "zsbed/plan/dmesg.py", "zsbed/verdict/verdict.py")
# What a catcher costs besides its boot: zsbed's own work per boot, and the
# incremental build of a variant other than fast (measured here: one object,
# 7 s classbits, 18 s deep with KASAN).
BOOT_OVERHEAD = 1.0
BUILD_COST = {"classbits": 7.0, "deep": 18.0}


@dataclass(frozen=True)
class Catcher:
    """One boot that can kill a mutant."""

    name: str                          # kunit.fast, plan.fast, fault.<scenario>
    variant: str
    kind: str                          # kunit | plan | scenario
    scenario: fault.Scenario | None = None


@dataclass(frozen=True)
class Source:
    """The mutants of a series and what the report needs to show them."""

    mutants: list[mutation.Mutant]
    files: dict[str, list[str]]        # the whole patched tree's files the series touches
    lines: dict[str, list[int]]        # the series' lines in each, 1-based
    origin: dict[str, dict[int, str]]  # which patch of the series added each line
    patches: list[str]                 # the series under test, in order


def source_json(src: Source) -> dict[str, Any]:
    """A Source as JSON: a run keeps it, so make merge can score shards
    without the tree."""
    return {"patches": src.patches, "files": src.files,
            "lines": src.lines,
            "origin": {f: {str(n): p for n, p in o.items()} for f, o in src.origin.items()},
            "mutants": [{"path": m.path, "line": m.line, "op": m.op, "n": m.n,
                         "edits": [list(e) for e in m.edits], "original": m.original}
                        for m in src.mutants]}


def source_from_json(data: dict[str, Any]) -> Source:
    """The Source a run kept (``source_json``)."""
    return Source([mutation.Mutant(m["path"], m["line"], m["op"], m["n"],
                                   tuple((int(a), str(b)) for a, b in m["edits"]), m["original"])
                   for m in data["mutants"]],
                  data["files"], data["lines"],
                  {f: {int(n): p for n, p in o.items()} for f, o in data["origin"].items()},
                  data["patches"])


# Not a boot: the build of the fast variant, which every mutant gets first.
FIRST_BUILD = Catcher("build.fast", "fast", "build")

# Boots: (catcher, prepared kernel, results dir, time limit) -> cases
Boot = Callable[[Catcher, Any, Path, float], list[Case]]
Prepare = Callable[[str, tuple[Patch, ...]], Any]


def catchers(variants: tuple[str, ...] = ("fast", "deep")) -> list[Catcher]:
    """Every boot a mutant can meet: KUnit alone (fast and classbits), every
    fault scenario in its own variant, the selftest plan per variant."""
    out = [Catcher("kunit.fast", "fast", "kunit"), Catcher("kunit.classbits", "classbits", "kunit")]
    out += [Catcher(f"fault.{s.name}", s.variant, "scenario", s) for s in fault.scenarios()]
    out += [Catcher(f"plan.{v}", v, "plan") for v in variants]
    return out


def _lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines() if path.is_file() else []


def source(pristine: Path, full: Path, series: str | None) -> Source:
    """Generate the mutants of the series under test, placed in ``full`` (the
    tree with the series and zsbed's instrumentation)."""
    under_test, _ = split_series(series)
    if not under_test:
        raise ZsbedError(f"SERIES={series}: no patches under test, nothing to mutate")
    names = [Path(p.name).name for p in under_test]
    with tempfile.TemporaryDirectory(prefix="zsbed-mutation-") as tmp:
        stages: list[dict[str, list[str]]] = []
        touched: set[str] = set()
        for k in range(1, len(under_test) + 1):
            scratch = Path(tmp) / str(k)
            touched |= apply_to_scratch(pristine, under_test[:k], scratch)
            stages.append({f: _lines(scratch / f) for f in touched})
    out: list[mutation.Mutant] = []
    files: dict[str, list[str]] = {}
    lines: dict[str, list[int]] = {}
    origin: dict[str, dict[int, str]] = {}
    for rel in sorted(f for f in touched if C_FILE.search(f)):
        before = _lines(pristine / rel)
        after = _lines(full / rel)
        final = stages[-1][rel]
        mine = mutation.series_lines(before, final, after)
        if not mine:
            continue
        where: dict[int, str] = {}
        previous = before
        for k, stage in enumerate(stages):
            now = stage.get(rel, previous)
            for n in mutation.series_lines(previous, now, after):
                where[n] = names[k]
            previous = now
        files[rel], lines[rel] = after, mine
        origin[rel] = {n: where.get(n, "?") for n in mine}
        out += mutation.generate(rel, before, after, mine)
    return Source(out, files, lines, origin, names)


def state_dir(source_digest: str) -> Path:
    """results/mutation-state/<key>: the patches and every input of the checks."""
    h = hashlib.sha256(source_digest.encode())
    for pattern in CHECK_INPUTS:
        for f in sorted(paths.REPO.glob(pattern)):
            if f.is_file():
                h.update(f"{f.relative_to(paths.REPO)}\0".encode())
                h.update(f.read_bytes())
    return STATE / h.hexdigest()[:16]


def safe(mutant_id: str) -> str:
    """A mutant id as a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", mutant_id)


def load_results(state: Path) -> dict[str, dict[str, Any]]:
    """Every mutant result already kept (a resumed run skips them)."""
    out: dict[str, dict[str, Any]] = {}
    for f in sorted((state / "mutants").glob("*.json")):
        data = disk.read_state(f, "mutation", ("id", "fate"))
        if data:
            out[data["id"]] = data
    return out


def baseline(state: Path, every: list[Catcher], prepare: Prepare, boot: Boot) -> dict[str, float]:
    """Boot every catcher on the unmutated tree (once per state); each must
    pass, or a kill would mean nothing. Returns each catcher's seconds."""
    kept = disk.read_state(state / "baseline.json", "mutation", ("seconds",))
    if kept and set(kept["seconds"]) >= {c.name for c in every}:
        return {k: float(v) for k, v in kept["seconds"].items()}
    seconds: dict[str, float] = {}
    preps: dict[str, Any] = {}
    for c in sorted(every, key=lambda c: c.variant):
        if c.variant not in preps:
            preps[c.variant] = prepare(c.variant, ())
        say(f"[mutation] baseline: {c.name} ({c.variant}), unmutated")
        start = time.monotonic()
        cases = boot(c, preps[c.variant], state / "baseline" / c.name, 0)
        seconds[c.name] = round(time.monotonic() - start, 2)
        bad = [x for x in cases if x.outcome in verdict.FAILED]
        if bad:
            # the cases themselves before a program's exit status
            bad.sort(key=lambda x: x.name.endswith(".exit"))
            # kept aside: the next run's baseline boots into the same place
            kept_logs = state / "baseline-failed" / f"{c.name}-{time.strftime('%Y%m%d-%H%M%S')}"
            kept_logs.parent.mkdir(parents=True, exist_ok=True)
            if (state / "baseline" / c.name).exists():
                shutil.move(str(state / "baseline" / c.name), str(kept_logs))
            names = ", ".join(x.name for x in bad[:3]) + (", ..." if len(bad) > 3 else "")
            raise ZsbedError(f"mutation baseline: {c.name} fails on the unmutated series "
                             f"({names}: {bad[0].message[:120]}); a mutant's kill would "
                             f"mean nothing (logs: {paths.show(kept_logs)})")
    state.mkdir(parents=True, exist_ok=True)
    disk.write_json(state / "baseline.json", {"seconds": seconds})
    return seconds


def order(every: list[Catcher], seconds: dict[str, float],
          results: dict[str, dict[str, Any]]) -> list[Catcher]:
    """The most kills per second first: a catcher's kills so far (plus one,
    so that before any kill the cheapest goes first) over its cost, its
    baseline boot time plus the build of its variant when that is not the
    fast one (built anyway)."""
    kills: dict[str, int] = {}
    for r in results.values():
        if r.get("catcher"):
            kills[r["catcher"]] = kills.get(r["catcher"], 0) + 1

    def cost(c: Catcher) -> float:
        return seconds.get(c.name, 60.0) + BOOT_OVERHEAD + BUILD_COST.get(c.variant, 0.0)

    return sorted(every, key=lambda c: (-(kills.get(c.name, 0) + 1) / cost(c), c.name))


def limit(seconds: float) -> float:
    """A boot's time limit under a mutant."""
    return LIMIT_FACTOR * seconds + LIMIT_SLACK


def kept(state: Path, chosen: list[mutation.Mutant],
         results: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """The kept results of ``chosen``: a row counts only if it is this very
    edit (ids are line numbers, and the generator may change)."""
    results = load_results(state) if results is None else results
    return {m.id: results[m.id] for m in chosen if m.id in results
            and results[m.id].get("mutated") == edits_of(m)
            and results[m.id].get("original") == m.original.strip()}


def edits_of(m: mutation.Mutant) -> list[str]:
    """The mutated lines as a result row keeps them."""
    return [t.strip() for _, t in m.edits]


def run_one(m: mutation.Mutant, src: Source, every: list[Catcher], seconds: dict[str, float],
            results: dict[str, dict[str, Any]], out: Path, prepare: Prepare,
            boot: Boot) -> dict[str, Any]:
    """Build and boot one mutant until a catcher kills it; its result."""
    patch = Patch(name=f"mutant {m.id}", text=m.patch(src.files[m.path]))
    row: dict[str, Any] = {"id": m.id, "path": m.path, "line": m.line, "op": m.op,
                           "original": m.original.strip(),
                           "mutated": edits_of(m),
                           "patch": src.origin[m.path].get(m.line, ""),
                           "boots": [], "catcher": "", "by": [], "how": ""}
    start = time.monotonic()
    preps: dict[str, Any] = {}
    fate = "survived"
    # fast first: whether a mutant compiles must not depend on the order
    for c in [FIRST_BUILD] + order(every, seconds, results):
        if c.variant not in preps:
            try:
                preps[c.variant] = prepare(c.variant, (patch,))
            except ZsbedError as e:
                if not str(e).startswith("build:"):
                    raise
                # in any variant: a mutant that does not build is never a kill
                fate = "not-compiled"
                row["how"] = f"{c.variant}: {e}"[:300]
                break
        if c is FIRST_BUILD:
            continue
        shutil.rmtree(out / c.name, ignore_errors=True)     # nothing of an interrupted run
        t0 = time.monotonic()
        cases = boot(c, preps[c.variant], out / c.name, limit(seconds.get(c.name, 60)))
        fate_here, by = verdict.mutant_fate(cases)
        row["boots"].append({"catcher": c.name, "seconds": round(time.monotonic() - t0, 2),
                             "failing": [x.name for x in by]})
        if fate_here != "survived":
            # A kill that happened once may be luck: the same boot again must fail too.
            t0 = time.monotonic()
            again, by2 = verdict.mutant_fate(boot(c, preps[c.variant], out / f"{c.name}.again",
                                                  limit(seconds.get(c.name, 60))))
            row["boots"].append({"catcher": f"{c.name} (again)",
                                 "seconds": round(time.monotonic() - t0, 2),
                                 "failing": [x.name for x in by2]})
            decided = verdict.confirmed_fate(fate_here, again)
            if decided == "flaky":
                fate = "flaky"
                row.setdefault("flaky", []).append(c.name)
                continue
            fate, row["catcher"] = decided, c.name
            row["by"] = [x.name for x in by]
            row["how"] = "; ".join(f"{x.name}: {x.message}"[:200] for x in by[:2])
            break
        shutil.rmtree(out / c.name, ignore_errors=True)     # keep the logs of kills only
    row["fate"] = fate
    row["seconds"] = round(time.monotonic() - start, 1)
    return row


def run_mutants(source_digest: str, src: Source, chosen: list[mutation.Mutant],
                prepare: Prepare, boot: Boot) -> tuple[Path, dict[str, dict[str, Any]]]:
    """Run the chosen mutants not yet in the state; returns the state dir and
    every result kept there."""
    state = state_dir(source_digest)
    say(f"[mutation] {len(src.mutants)} mutants over {sum(map(len, src.lines.values()))} lines "
        f"the series adds ({', '.join(src.files)}); running {len(chosen)}; "
        f"state: {paths.show(state)}")
    results = load_results(state)
    done = kept(state, chosen, results)
    todo = [m for m in chosen if m.id not in done]
    if len(todo) < len(chosen):
        say(f"[mutation] resuming: {len(chosen) - len(todo)} of {len(chosen)} already done")
    every = catchers()
    if todo:
        seconds = baseline(state, every, prepare, boot)
        start = time.monotonic()
        for k, m in enumerate(todo, 1):
            say(f"[mutation] {k}/{len(todo)} {m.id}: {m.original.strip()[:70]}")
            row = run_one(m, src, every, seconds, results, state / "logs" / safe(m.id),
                          prepare, boot)
            (state / "mutants").mkdir(parents=True, exist_ok=True)
            disk.write_json(state / "mutants" / f"{safe(m.id)}.json", row)
            results[m.id] = row
            left = (time.monotonic() - start) / k * (len(todo) - k)
            say(f"[mutation] {m.id}: {row['fate']}"
                + (f" by {row['catcher']} ({row['by'][0]})" if row["by"] else "")
                + f", {row['seconds']:.0f}s; about {left / 60:.0f} min left")
    return state, results
