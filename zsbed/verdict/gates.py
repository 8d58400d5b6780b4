"""The gates of the commands that judge many runs at once: each takes the
rows its command collected and says what fails it.

- make mutants: a hand-written mutant fails unless every run killed it;
- make coverage: a fallback site fails in a mode it belongs to that no
  boot of that mode hit;
- make mutation: a score below MIN_SCORE fails (wrong equivalence claims
  are ``verdict.equivalence_problems``).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping


def mutants_not_killed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of make mutants whose mutant some run did not kill."""
    return [r for r in rows if r["verdict"] != "killed"]      # verdict.repeated()'s word


def modes_never_hit(modes: Iterable[str], hits: Mapping[str, int]) -> list[str]:
    """The modes a coverage site belongs to in which it was never hit."""
    return [m for m in modes if not hits.get(m)]


def below_min_score(score: float | None, min_score: float | None) -> bool:
    """A mutation score under MIN_SCORE (no score at all counts as 0)."""
    return min_score is not None and (score or 0) < min_score
