"""Stage 7, parse: KTAP and boot status into flat test cases.

KTAP is parsed with the kernel's own ``kunit_parser`` (imported from the tree
under test), so nested subtests, skips and crashes mean what they mean to
kunit.py. Each leaf test becomes one case named ``<source>.<parent>.<leaf>``.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from zsbed.kernel import ktools
from zsbed.verdict.outcome import OUTCOMES, Outcome, ktap, parent_error

__all__ = ["OUTCOMES", "Case", "has_ktap", "parse_ktap"]


@dataclass
class Case:
    """One test case as the report and pytest see it."""

    name: str
    outcome: str                 # one of OUTCOMES
    duration: float | None
    message: str = ""
    log: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def flatten(parser: Any, test: Any, prefix: str) -> list[Case]:
    """Leaf cases of a parsed KTAP tree, with parse errors as error cases."""
    cases: list[Case] = []
    name = f"{prefix}.{test.name}" if test.name else prefix
    for number, sub in enumerate(test.subtests, 1):
        if not sub.name:        # kselftest: "ok 3 # SKIP <reason>" has no name
            sub.name = sub.skip_reason or f"test {number}"
        cases += flatten(parser, sub, name)
    outcome = ktap(test.status.name)
    if not test.subtests:
        message = test.skip_reason or ("" if outcome == Outcome.PASSED
                                       else f"KTAP status {test.status.name}")
        cases.append(Case(name=name, outcome=outcome, duration=None, message=message,
                          log="\n".join(test.log)))
    elif parent_error(outcome, [c.outcome for c in cases]):
        cases.append(Case(name=f"{name}.<suite>", outcome=Outcome.ERROR, duration=None,
                          message=f"KTAP status {test.status.name}", log="\n".join(test.log)))
    return cases


PLAN = re.compile(r"(?<![0-9.])1\.\.([0-9]+)")


def bound_plans(lines: list[str]) -> tuple[list[str], str]:
    """Cap test plans that promise more tests than there are lines.

    kunit_parser adds a "missing" subtest for every test a plan promised
    and never got: ``1..4294967295`` from a broken guest would fill the
    host's memory. Such a plan cannot be met in these lines anyway; it is
    cut to one more test than there are lines (still an error), and the
    first one is returned, to be reported.
    """
    limit = len(lines) + 1
    out, first = [], ""
    for line in lines:
        m = PLAN.search(line)
        if m and (len(m.group(1)) > len(str(limit)) or int(m.group(1)) > limit):
            first = first or line.strip()[:80]
            line = line[:m.start(1)] + str(limit) + line[m.end(1):]
        out.append(line)
    return out, first


def parse_ktap(tree: Path, lines: Iterable[str], prefix: str) -> list[Case]:
    """Parse KTAP text (console or a selftest's stdout) into cases.

    Whatever the text, this returns cases: what the kernel's parser cannot
    take (it is not zsbed's code) becomes an error case.
    """
    parser = ktools.load(tree, "kunit_parser")
    printer = ktools.load(tree, "kunit_printer").null_printer
    bounded, bad_plan = bound_plans(list(lines))
    try:
        test = parser.parse_run_tests(bounded, printer)
    except Exception as exc:       # RecursionError included
        return [Case(name=f"{prefix}.<parse>", outcome=Outcome.ERROR, duration=None,
                     message=f"kunit_parser failed on this KTAP: {type(exc).__name__}: "
                             f"{' '.join(str(exc).split())[:200]}", log="\n".join(bounded)[-4000:])]
    test.name = ""              # the parser calls the root "main"; we use the prefix
    cases = flatten(parser, test, prefix)
    if bad_plan:
        cases.append(Case(name=f"{prefix}.<plan>", outcome=Outcome.ERROR, duration=None,
                          message=f"a test plan promises more tests than the output has "
                                  f"lines: {bad_plan}"))
    if test.counts.errors and not any(c.outcome == Outcome.ERROR for c in cases):
        cases.append(Case(name=f"{prefix}.<parse>", outcome=Outcome.ERROR, duration=None,
                          message=f"{test.counts.errors} KTAP parse error(s)",
                          log="\n".join(test.log)))
    return cases


def has_ktap(text: str) -> bool:
    """True if the text carries a (K)TAP header anywhere."""
    return re.search(r"(?m)^.*\b(K?TAP version \d+)\s*$", text) is not None
