"""Where the C functions of a kernel source file are: the one place zsbed
answers "which function holds line N" and "where is function F" (coverage
sites, the mutation report, the contract check, the mutant generator).

Kernel style is assumed: a definition's head starts at column 0 and does
not end in ';', and its body's braces are alone at column 0.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

HEAD_RE = re.compile(r"^[A-Za-z_][\w \t*]*?\b([A-Za-z_]\w*)\s*\(")
FILE_SCOPE = "(file scope)"


@dataclass(frozen=True)
class Function:
    """One definition: its name, the lines of its head, of its opening
    brace and of its closing brace (1-based)."""

    name: str
    first: int
    brace: int
    last: int


def end_of(lines: list[str], start: int) -> int | None:
    """The 0-based index of the first line from ``start`` on that closes a
    function (a '}' at column 0), or None."""
    return next((j for j in range(start, len(lines)) if lines[j].startswith("}")), None)


def functions(lines: list[str]) -> list[Function]:
    """Every function defined in ``lines``, in order of their heads."""
    out = []
    for i, line in enumerate(lines):
        m = HEAD_RE.match(line)
        if not m or line.rstrip().endswith(";") or line.startswith("static_assert"):
            continue
        # a head continued on the next lines: a prototype if it ends in ';'
        # before a brace opens a body
        brace = next((j for j in range(i + 1, len(lines))
                      if lines[j].startswith("{") or lines[j].rstrip().endswith(";")), None)
        if brace is None or not lines[brace].startswith("{"):
            continue
        end = end_of(lines, brace + 1)
        if end is not None:
            out.append(Function(m.group(1), i + 1, brace + 1, end + 1))
    return out


def function_at(funcs: list[Function], n: int) -> str:
    """The name of the function of ``funcs`` (one file's) around line ``n``
    (1-based), or FILE_SCOPE. A caller asking of many lines finds the
    functions once."""
    around = [f for f in funcs if f.first <= n <= f.last]
    return max(around, key=lambda f: f.first).name if around else FILE_SCOPE


def function_of(lines: list[str], n: int) -> str:
    """The name of the function around line ``n`` (1-based), or FILE_SCOPE."""
    return function_at(functions(lines), n)


def bodies(text: str, name: str) -> list[tuple[int, int]]:
    """(first, last) 1-based lines of each definition of ``name`` in ``text``."""
    return [(f.first, f.last) for f in functions(text.splitlines()) if f.name == name]
