"""What a boot runs: one Program per line of the plan that zsbed-init
(zsbed/guest/init.c) reads, and the rules a line must keep to get there
whole. The loaders of plan.toml and of the scenarios check their entries
against these rules before anything is built."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zsbed.core import disk, paths
from zsbed.core.errors import ZsbedError


@dataclass(frozen=True)
class Program:
    """One plan entry: a case prefix, a host binary and its arguments."""

    name: str             # e.g. "selftests.zsmalloc.zram_swap"
    argv: tuple[str, ...]
    timeout: int = 60


# zsbed-init (zsbed/guest/init.c) reads a plan line into 4096 bytes and
# splits it at white space into at most 64 words of argv.
MAX_LINE = 4095
MAX_ARGS = 64


def word_problem(word: str) -> str:
    """Why ``word`` cannot pass through the plan as one argv word, or ''."""
    if not word:
        return "is empty (it would vanish)"
    if any(c.isspace() for c in word):
        return "has white space (it would be split)"
    if "\0" in word:
        return "has a NUL byte"
    return ""


def plan_problem(prog: Program) -> str:
    """Why ``prog`` cannot be a line of the plan as it is, or ''."""
    if word_problem(prog.name) or "/" in prog.name or prog.name.startswith("#"):
        return f"name {prog.name!r} is not one word without '/'"
    if len(prog.argv) > MAX_ARGS:
        return f"{len(prog.argv)} words of argv; zsbed-init passes at most {MAX_ARGS}"
    for word in prog.argv:
        why = word_problem(word)
        if why:
            return f"argument {word!r} {why}"
    line = f"{prog.name} {prog.timeout} {' '.join(prog.argv)}"
    if len(line.encode()) > MAX_LINE:
        return f"its plan line is {len(line.encode())} bytes; zsbed-init reads at most {MAX_LINE}"
    return ""


def write_plan(plan: Path, programs: list[Program]) -> None:
    """Write the plan in the format zsbed-init reads (the loaders have
    checked every word; this is the last guard)."""
    lines = []
    for prog in programs:
        why = plan_problem(prog)
        if why:
            raise ZsbedError(f"{paths.show(plan)}: {prog.name!r}: {why}")
        lines.append(f"{prog.name} {prog.timeout} {' '.join(prog.argv)}")
    disk.write_text(plan, "\n".join(lines) + "\n")
