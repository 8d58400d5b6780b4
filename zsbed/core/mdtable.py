"""Markdown tables, as zsbed's reports write them (flaky.md, mutants.md,
survivors.md, peer.md, coverage.md, the run summary, the reference)."""
from __future__ import annotations

from typing import Collection, Iterable, Sequence


def cell(text: str) -> str:
    """Text for a table cell: a '|' (C's bitwise or) escaped, as GitHub's
    tables read it, code spans included."""
    return text.replace("|", "\\|")


def row(cells: Sequence[object]) -> str:
    """One table line; an empty cell is a single space, as in '| |'."""
    return "|" + "|".join(f" {c} " if str(c) else " " for c in cells) + "|"


def table(head: Sequence[str], rows: Iterable[Sequence[object]],
          right: Collection[int] = ()) -> list[str]:
    """The lines of a table: its head, the rule (columns whose index is in
    ``right`` aligned right), then the rows."""
    rule = "|" + "|".join("--:" if i in right else "---" for i in range(len(head))) + "|"
    return [row(head), rule, *(row(r) for r in rows)]
