"""contract: which KUnit cases test the series' contract, and what they may touch.

``docs/contract.md`` states what the deferral promises, so that any design
of it can be held to the same tests. A KUnit case whose comment starts
with ``Contract:`` is such a test: it may use zsmalloc's public API and
the seams every design must offer (holding the drain off, the drain delay
point), and nothing of ``struct zs_deferred``. This module finds those
cases in the patches' KUnit source and names each private access, also
through the ``zs_test_*`` helpers a case calls. ``make unit`` runs it on
the real patches (tests/test_contract.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from zsbed.core import cfunc


KUNIT_FILE = "mm/tests/zsmalloc_kunit.c"

# Helpers that may touch the deferral's internals on a contract test's
# behalf: the seams a design must offer (docs/contract.md, promise 2).
SEAMS = frozenset({"zs_test_disable_drain", "zs_test_enable_drain",
                   "zs_test_delay_drain"})

# What only one design has: the array, its lock and counters, its drain.
PRIVATE = re.compile(r"->deferred\b|\bdeferred\.\w+|\bdq\b|struct zs_deferred\b"
                     r"|\bzs_deferred_(?:drain|wq|init|alloc)\b")


@dataclass(frozen=True)
class Function:
    name: str
    body: str
    comment: str   # the block comment right above it, if any


def kunit_source(patches: list[str]) -> str:
    """The lines the patches add to the KUnit file, in order.

    Every change the series makes to that file is an addition, so a
    function's text is whole within one hunk's added lines.
    """
    out: list[str] = []
    for text in patches:
        current = None
        for line in text.splitlines():
            if line.startswith("+++ "):
                current = line[6:] if line.startswith("+++ b/") else line[4:]
            elif current == KUNIT_FILE and line.startswith("+"):
                out.append(line[1:])
    return "\n".join(out) + "\n"


def _comment_above(lines: list[str], first: int) -> str:
    """The block comment that ends on the line before @first (0-based),
    blank lines allowed between, or ''."""
    head = "\n".join(lines[:first]).rstrip()
    if not head.endswith("*/"):
        return ""
    return head[head.rfind("/*") + 2:-2]


def functions(source: str) -> dict[str, Function]:
    """Each function defined in @source, by name, with its body and comment
    (as zsbed.cfunc finds them; of a name defined twice, under #ifdef, the
    last)."""
    lines = source.splitlines()
    return {f.name: Function(f.name, "\n".join(lines[f.first - 1:f.last]),
                             _comment_above(lines, f.first - 1))
            for f in cfunc.functions(lines)}


def contract_cases(funcs: dict[str, Function]) -> list[Function]:
    """The cases whose comment starts with 'Contract:'."""
    return [f for f in funcs.values()
            if re.match(r"\s*\*?\s*Contract:", f.comment)]


def problems(source: str) -> list[str]:
    """One line per private access a contract case makes, directly or
    through a zs_test_* helper that is not a seam."""
    funcs = functions(source)
    out = []
    for case in contract_cases(funcs):
        seen: set[str] = set()
        todo = [(case.name, case.name)]
        while todo:
            name, path = todo.pop()
            if name in seen or name not in funcs:
                continue
            seen.add(name)
            body = funcs[name].body
            for hit in sorted(set(PRIVATE.findall(body))):
                out.append(f"{KUNIT_FILE}: contract case {case.name} reaches into "
                           f"the deferral's internals: '{hit}' in {path}")
            for callee in sorted(set(re.findall(r"\b(zs_test_\w+)\s*\(", body))):
                if callee not in SEAMS and callee != name:
                    todo.append((callee, f"{path} -> {callee}"))
    return out


def check_patches(paths: list[Path]) -> list[str]:
    """problems() of the KUnit source the given patch files add."""
    return problems(kunit_source([p.read_text() for p in paths]))
