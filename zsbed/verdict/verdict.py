"""Pass or fail: the one module that decides.

The kernel and the selftests say what they saw; whatever zsbed concludes
beyond that is decided here, and nowhere else:

- a fault scenario's expectations on its counters (``expectation_cases``);
- which skips are expected, per variant, and what an unexpected skip or an
  expected skip that ran becomes (``SkipList``, ``apply_skips``);
- whether one run of a mutant killed it, and by which case
  (``mutant_run``), and whether repeated runs killed it every time
  (``repeated``);
- which coverage phases count for a site (``phase_counts``);
- how often each case failed over repeated runs of an unmutated kernel
  (``flaky_rows``, ``merge_flaky_rows``);
- whether the shards of a split run add up to the whole run: every shard
  there, finished and passed, the whole list covered once
  (``shard_problems``); and whether two runs agree case for case
  (``differences``);
- what an upstream case's outcomes on the base and the series kernel add
  up to, against the list of known upstream failures (``peer_cases``).
"""
from __future__ import annotations

import fnmatch
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from zsbed.core import paths, tomlfile
from zsbed.core.errors import ZsbedError
from zsbed.plan.parse import Case
from zsbed.results.shard import Record

OPS: dict[str, Callable[[int, int], bool]] = {
    "min": lambda v, x: v >= x, "max": lambda v, x: v <= x, "eq": lambda v, x: v == x}
FAILED = ("failed", "error")
COUNTER_MAX = 2**64 - 1   # fault_ctl prints every counter as an unsigned 64-bit value


def bound_problem(value: int) -> str | None:
    """Why no counter can meet an expectation's bound ``value``, or None."""
    if not 0 <= value <= COUNTER_MAX:
        return f"{value} is out of a counter's range (0 to 2^64-1)"
    return None


# -- fault scenario expectations ---------------------------------------------

@dataclass(frozen=True)
class Expect:
    """One expectation of a scenario: ``counter`` (of ``pool``) ``op`` ``value``."""

    counter: str
    op: str              # min | max | eq
    value: int
    pool: str | None = None

    @property
    def key(self) -> str:
        """The counter's name in the values: deferred.<key> is per pool."""
        if self.pool:
            return f"deferred.{self.pool}.{self.counter.removeprefix('deferred.')}"
        return self.counter


def expectation_cases(scenario: str, expects: Iterable[Expect],
                      values: dict[str, int], prefix: str = "fault.") -> list[Case]:
    """One case per expectation: did the forced path run (as much as required)?
    Named ``<prefix><scenario>.expect.<counter>.<op>``."""
    cases = []
    for e in expects:
        name = f"{prefix}{scenario}.expect.{e.key}.{e.op}"
        if e.key not in values:
            pools = sorted({k.split(".")[1] for k in values if k.startswith("deferred.")})
            why = (f"no counters for pool '{e.pool}' (pools seen: {', '.join(pools) or 'none'})"
                   if e.pool else "never reported (fault point missing?)")
            cases.append(Case(name, "failed", None, f"counter {e.key}: {why}"))
            continue
        got = values[e.key]
        ok = OPS[e.op](got, e.value)
        cases.append(Case(name, "passed" if ok else "failed", None,
                          f"{e.key} = {got}, want {e.op} {e.value}"))
    return cases


# -- expected skips ----------------------------------------------------------

SKIPS = paths.SELFTESTS / "zsmalloc" / "skips.toml"


@dataclass(frozen=True)
class Skip:
    case: str                    # a case id, '*' matching within one dotted part or more
    variants: tuple[str, ...]
    reason: str


class SkipList:
    """The cases expected to skip, each in its variants, with the reason."""

    def __init__(self, skips: list[Skip]) -> None:
        self.skips = skips

    @classmethod
    def load(cls, path: Path = SKIPS, variants: Iterable[str] | None = None) -> SkipList:
        where = paths.show(path)
        data = tomlfile.read(path)
        entries = data.get("skip", [])
        if set(data) - {"skip"} or not isinstance(entries, list):
            raise ZsbedError(f"{where}: expected only [[skip]] entries")
        known = set(variants) if variants is not None else None
        skips = []
        for index, entry in enumerate(entries, 1):
            at = f"{where}: [[skip]] #{index}"
            if not isinstance(entry, dict) or set(entry) != {"case", "variants", "reason"}:
                raise ZsbedError(f"{at}: needs exactly the keys case, variants, reason")
            if not isinstance(entry["case"], str) or not entry["case"]:
                raise ZsbedError(f"{at}: 'case' must be a case id")
            if not isinstance(entry["reason"], str) or not entry["reason"].strip():
                raise ZsbedError(f"{at} ({entry['case']}): 'reason' must say why it skips")
            vs = entry["variants"]
            if not isinstance(vs, list) or not vs or not all(isinstance(v, str) for v in vs):
                raise ZsbedError(f"{at} ({entry['case']}): 'variants' must be a non-empty "
                                 f"list of variant names")
            unknown = [v for v in vs if known is not None and v not in known]
            if unknown:
                raise ZsbedError(f"{at} ({entry['case']}): no variant '{unknown[0]}' "
                                 f"(uml-config/{unknown[0]}.config)")
            skips.append(Skip(entry["case"], tuple(vs), entry["reason"]))
        return cls(skips)

    def reason(self, case: str, variant: str) -> str | None:
        """Why ``case`` is expected to skip in ``variant``, or None."""
        for s in self.skips:
            if variant in s.variants and fnmatch.fnmatchcase(case, s.case):
                return s.reason
        return None


def apply_skips(cases: list[Case], variant: str, skips: SkipList) -> list[Case]:
    """Skips are part of the result: an unexpected skip fails, and so does an
    expected skip that now runs (the list is stale, or a precondition broke)."""
    out = []
    for c in cases:
        reason = skips.reason(c.name, variant)
        if c.outcome == "skipped" and reason is None:
            out.append(Case(c.name, "failed", c.duration,
                            f"unexpected skip in {variant} ({c.message or 'no reason given'}); "
                            f"list it in {paths.show(SKIPS)} with the reason if it is right",
                            c.log))
        elif c.outcome == "passed" and reason is not None:
            out.append(Case(c.name, "failed", c.duration,
                            f"expected to skip in {variant} ({reason}), but it ran; "
                            f"update {paths.show(SKIPS)}", c.log))
        elif c.outcome == "skipped":
            out.append(Case(c.name, "skipped", c.duration, f"expected: {reason}", c.log))
        else:
            out.append(c)
    return out


# -- mutants -----------------------------------------------------------------

@dataclass
class MutantRun:
    """One boot of a mutant: did one of its own cases fail, and what else did?"""

    killed: bool
    by: list[str] = field(default_factory=list)        # the expected cases that failed
    other: list[str] = field(default_factory=list)     # failed cases it did not name
    how: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"killed": self.killed, "by": self.by, "other": self.other, "how": self.how}


def matches(pattern: str, name: str) -> bool:
    """A caught_by entry is an exact case id; '*' stands for a whole dotted part."""
    if "*" not in pattern:
        return pattern == name
    parts, names = pattern.split("."), name.split(".")
    return len(parts) == len(names) and all(p == "*" or p == n for p, n in zip(parts, names))


def mutant_run(caught_by: Iterable[str], cases: list[Case]) -> MutantRun:
    """Killed only by one of ``caught_by``; any other failure is reported, not counted."""
    pats = list(caught_by)
    failed = [c for c in cases if c.outcome in FAILED]
    by = [c for c in failed if any(matches(p, c.name) for p in pats)]
    other = [c for c in failed if c not in by]
    how = "; ".join(f"{c.name}: {c.message}"[:160] for c in (by or other)[:3])
    return MutantRun(bool(by), [c.name for c in by], [c.name for c in other], how)


def repeated(runs: list[MutantRun]) -> str:
    """'killed' only if every run killed it; 'flaky' if some did; else 'survived'."""
    kills = sum(r.killed for r in runs)
    if runs and kills == len(runs):
        return "killed"
    return "flaky" if kills else "survived"


# -- coverage phases ---------------------------------------------------------

def phase_counts(forced_by: Iterable[str], boot: str, phase: str) -> bool:
    """Do hits in ``phase`` of ``boot`` count for a site forced by these scenarios?

    A site that no scenario forces counts everywhere. A forced site counts
    only in the workload phases of its own scenarios' boots: not KUnit at
    boot, not the set-up or the counter dump, not another scenario.
    """
    forced = list(forced_by)
    if not forced:
        return True
    for name in forced:
        prefix = f"fault.{name}"
        if boot == prefix and phase.startswith(prefix + ".") and \
                phase not in (f"{prefix}.arm", f"{prefix}.counters"):
            return True
    return False


# -- false failures ----------------------------------------------------------

def flaky_rows(runs: list[list[Case]]) -> list[dict[str, Any]]:
    """Per case id over repeated runs: how often it failed, and the first message."""
    rows: dict[str, dict[str, Any]] = {}
    for cases in runs:
        for c in cases:
            r = rows.setdefault(c.name, _flaky_row(c.name))
            r["runs"] += 1
            if c.outcome in FAILED:
                r["failed"] += 1
                r["first_failure"] = r["first_failure"] or c.message
            elif c.outcome == "skipped":
                r["skipped"] += 1
    return _flaky_order(rows)


def merge_flaky_rows(shards: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The rows of ``flaky_rows`` over the boots of several shards: a case
    booted in two shards (the plan's cases in fast and deep) adds up."""
    rows: dict[str, dict[str, Any]] = {}
    for shard_rows in shards:
        for row in shard_rows:
            r = rows.setdefault(row["case"], _flaky_row(row["case"]))
            for key in ("runs", "failed", "skipped"):
                r[key] += row[key]
            r["first_failure"] = r["first_failure"] or row["first_failure"]
    return _flaky_order(rows)


def _flaky_row(case: str) -> dict[str, Any]:
    return {"case": case, "runs": 0, "failed": 0, "skipped": 0, "first_failure": ""}


def _flaky_order(rows: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows.values(), key=lambda r: (-r["failed"], r["case"]))


# -- shards ------------------------------------------------------------------

def shard_problems(records: Iterable[Record], expect: Iterable[str] = ()) -> list[str]:
    """Why the shards do not add up to a whole, passed run; [] when they do.

    Per part: every shard 1..N there once, all split from the same list,
    together holding each entry of it exactly once, and each finished with
    exit 0. ``expect``: parts that must be there (the CI matrix's).
    """
    parts: dict[str, list[Record]] = {}
    for r in records:
        parts.setdefault(r.part, []).append(r)
    problems = [f"{p}: no results (its job left none)" for p in expect if p not in parts]
    for part, recs in parts.items():
        counts = sorted({r.shard.count for r in recs})
        if len(counts) > 1:
            problems.append(f"{part}: shards of different splits "
                            f"({', '.join(str(r.shard) for r in recs)})")
            continue
        seen: dict[int, Record] = {}
        for r in sorted(recs, key=lambda r: r.shard.index):
            if r.shard.index in seen:
                problems.append(f"{part}: shard {r.shard} given twice "
                                f"({paths.show(seen[r.shard.index].path)}, {paths.show(r.path)})")
            seen.setdefault(r.shard.index, r)
        absent = [i for i in range(1, counts[0] + 1) if i not in seen]
        problems += [f"{part}: shard {i}/{counts[0]} missing" for i in absent]
        if len({r.whole for r in recs}) > 1:
            problems.append(f"{part}: the shards were split from different lists "
                            f"(another checkout, or other options)")
        elif not absent:
            taken = Counter(e for r in seen.values() for e in r.entries)
            if taken != Counter(recs[0].whole):
                odd = sorted((taken - Counter(recs[0].whole)) | (Counter(recs[0].whole) - taken))
                problems.append(f"{part}: the shards do not hold each entry once "
                                f"({', '.join(odd[:3])})")
        for r in seen.values():
            if r.exit is None:
                problems.append(f"{part}: shard {r.shard} ({paths.show(r.path)}) did not finish")
            elif r.exit != 0:
                problems.append(f"{part}: shard {r.shard} ({paths.show(r.path)}) failed "
                                f"(exit {r.exit})")
    return problems


def differences(left: Iterable[tuple[str, str]], right: Iterable[tuple[str, str]],
                names: tuple[str, str] = ("sharded", "unsharded")) -> list[str]:
    """Case for case, (case, outcome) of two runs: each case whose outcomes differ
    or that only one run has. A case may occur more than once (coverage boots
    the plan in both modes); then it must occur as often, with the same outcomes."""
    a, b = Counter(left), Counter(right)
    if a == b:
        return []
    out: dict[str, tuple[list[str], list[str]]] = {}
    for (case, outcome), n in (a - b).items():
        out.setdefault(case, ([], []))[0].extend([outcome] * n)
    for (case, outcome), n in (b - a).items():
        out.setdefault(case, ([], []))[1].extend([outcome] * n)
    return [f"{case}: {names[0]} {', '.join(sorted(x)) or 'absent'}, "
            f"{names[1]} {', '.join(sorted(y)) or 'absent'}"
            for case, (x, y) in sorted(out.items())]


# -- make peer: upstream's tests on base and series --------------------------

@dataclass(frozen=True)
class Known:
    """A listed upstream failure: why, and whether it fails only sometimes."""

    reason: str
    flaky: bool = False


def _peer_verdict(base: str, series: str, known: Known | None) -> tuple[str, str]:
    """(outcome, why) of one upstream case from its two kernels' outcomes."""
    b_bad, s_bad = base in FAILED, series in FAILED
    if base == "absent" or series == "absent":
        return "failed", "ran on only one kernel (a boot died, or the test changed its cases)"
    if known is not None and known.flaky:
        if b_bad or s_bad:
            return "skipped", f"known upstream flake, failed this time: {known.reason}"
        return "passed", ""
    if known is not None:
        if not b_bad:
            return "failed", (f"listed as an upstream failure ({known.reason}) but {base} on "
                              f"base: take it off {paths.show(PEER_FAILURES)}")
        if s_bad:
            return "skipped", f"upstream failure, fails on base too: {known.reason}"
        return "passed", f"fails on base (listed: {known.reason}), passes with the series"
    if s_bad and not b_bad:
        return "failed", f"fails only with the series (base: {base}): a finding"
    if s_bad:
        return "failed", (f"fails on base too, and is not a listed upstream failure: diagnose "
                          f"it and list it in {paths.show(PEER_FAILURES)} with the reason")
    if series == "skipped" and base != "skipped":
        return "failed", f"skips only with the series (base: {base})"
    if series == "skipped":
        return "skipped", "skips on both kernels"
    return "passed", ""


PEER_FAILURES = paths.SELFTESTS / "peer" / "upstream-failures.toml"


def peer_cases(base: dict[str, tuple[str, str]], series: dict[str, tuple[str, str]],
               known: dict[str, Known]) -> tuple[list[Case], list[dict[str, Any]]]:
    """One case ``peer.<case>`` per upstream case, from its outcome on each
    kernel: a failure only with the series fails; a failure on both is an
    upstream failure, reported as a skip with its reason only when it is
    listed (``known``), and a listed one that passes on base fails again.
    A case listed as flaky (measured failing on both kernels, sometimes) is
    a skip with its reason whenever it fails on either. Also the rows of
    the side-by-side table."""
    cases, rows = [], []
    for name in sorted(set(base) | set(series) | set(known)):
        if name not in base and name not in series:
            cases.append(Case(f"peer.{name}", "failed", None,
                              f"listed in {paths.show(PEER_FAILURES)} but no such case ran"))
            rows.append({"case": name, "base": "absent", "series": "absent",
                         "verdict": "failed", "why": "listed but not run"})
            continue
        b, b_msg = base.get(name, ("absent", ""))
        s, s_msg = series.get(name, ("absent", ""))
        outcome, why = _peer_verdict(b, s, known.get(name))
        detail = "; ".join(f"{k}: {m}" for k, m in (("base", b_msg), ("series", s_msg)) if m)
        cases.append(Case(f"peer.{name}", outcome, None,
                          f"base {b}, series {s}" + (f": {why}" if why else ""), detail))
        rows.append({"case": name, "base": b, "series": s, "verdict": outcome, "why": why})
    return cases, rows


# -- generated mutants (make mutation) ----------------------------------------

MUTATION_FATES = ("killed", "timeout", "survived", "flaky", "equivalent", "not-compiled")
# How run.boot_case begins the message of a boot killed at its timeout.
TIMEOUT_KILL = "killed after the "


def mutant_fate(cases: list[Case]) -> tuple[str, list[Case]]:
    """A generated mutant's fate at one boot, and the cases that decided it.

    Any failing case kills it (the baseline has shown that every case passes
    on the unmutated series); a boot killed at its time limit is a timeout
    kill."""
    failed = [c for c in cases if c.outcome in FAILED]
    if not failed:
        return "survived", []
    hung = [c for c in failed if c.name.startswith("boot.") and c.message.startswith(TIMEOUT_KILL)]
    if hung:
        return "timeout", hung + [c for c in failed if c not in hung]
    return "killed", failed


def confirmed_fate(first: str, again: str) -> str:
    """A mutant killed at a boot is killed only if the same boot kills it
    again; killed once of twice is 'flaky', which is not a kill."""
    return first if again != "survived" else "flaky"


def equivalence_problems(fates: dict[str, str], claimed: dict[str, str]) -> list[str]:
    """An equivalence claim may only cover a mutant that survived every boot:
    one that some check kills (even once of two boots) is not equivalent, nor
    is one that does not compile. Claims for mutants not in ``fates`` are not
    judged here (``mutation_report.write`` finds the stale ones)."""
    out = []
    for mid in sorted(claimed):
        fate = fates.get(mid)
        if fate is None:
            continue
        if fate in ("killed", "timeout", "flaky"):
            what = {"timeout": "timed it out", "flaky": "killed it once of two boots"}.get(
                fate, "killed it")
            out.append(f"{mid}: claimed equivalent, but a check {what}")
        elif fate == "not-compiled":
            out.append(f"{mid}: claimed equivalent, but it does not compile")
    return out
