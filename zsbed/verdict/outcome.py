"""A case's outcome, and the rules that give one to what KTAP reports.

Every outcome zsbed writes comes from here or from a rule elsewhere in
zsbed/verdict/: a case is passed, failed, skipped or an error (it did not
run to a verdict: a crash, a parse failure, a program that never ran).
"""
from __future__ import annotations

import enum


class Outcome(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"


OUTCOMES = tuple(Outcome)
BAD = (Outcome.FAILED, Outcome.ERROR)      # what fails a run


def ktap(status: str) -> Outcome:
    """The outcome of a KTAP result, by kunit_parser's TestStatus name."""
    return {"SUCCESS": Outcome.PASSED, "SKIPPED": Outcome.SKIPPED,
            "FAILURE": Outcome.FAILED}.get(status, Outcome.ERROR)   # crashed, no tests, unparsable


def parent_error(parent: str, leaves: list[str]) -> bool:
    """A parent test that crashed, or failed with no failing leaf (a suite
    whose init failed, or that stopped reporting midway), is an error case
    of its own."""
    return parent == Outcome.ERROR or (parent == Outcome.FAILED
                                       and all(o != Outcome.FAILED for o in leaves))


def reported(case: str, pytest: str) -> Outcome:
    """A case's outcome in summary.json: pytest's, except that a case that
    is an error (it never reached a verdict) stays an error."""
    if case == Outcome.ERROR and pytest == Outcome.FAILED:
        return Outcome.ERROR
    return Outcome(pytest)


def upstream(word: str) -> Outcome:
    """An upstream script's own [PASS]/[FAIL] line."""
    return Outcome.PASSED if word == "PASS" else Outcome.FAILED
