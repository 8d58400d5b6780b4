"""The selftest plan: which programs a boot runs, with which arguments.

``selftests/<dir>/plan.toml`` lists runs in order; a ``{name}`` in an
argument takes the variant's ``[sizes.<variant>]`` value (falling back to
its target's, ``[sizes.qemu]`` for the x86_64 guest, then to
``[sizes.default]``); no other braces are allowed. A malformed plan fails
with the file, the entry and what is wrong, before anything is built.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from zsbed.core import paths, tomlfile
from zsbed.kernel import target
from zsbed.core.errors import ZsbedError
from zsbed.plan.program import Program, plan_problem

DEFAULT_TIMEOUT = 60
NAME = re.compile(r"[A-Za-z0-9_.-]+")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _sizes(data: dict[str, Any], variant: str, where: str) -> dict[str, str]:
    sizes = data.get("sizes", {})
    if not isinstance(sizes, dict):
        raise ZsbedError(f"{where}: [sizes] must be a table")
    name = next((n for n in (variant, target.of(variant).name) if n in sizes), "default")
    chosen = sizes.get(name, {})
    if not isinstance(chosen, dict):
        raise ZsbedError(f"{where}: [sizes.{name}] must be a table")
    for key, value in chosen.items():
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            raise ZsbedError(f"{where}: [sizes.{name}] {key}: must be an integer or a string")
    return {str(k): str(v) for k, v in chosen.items()}


def _fill(arg: str, sizes: dict[str, str], entry: str, variant: str) -> str:
    """``arg`` with each ``{name}`` replaced by its size."""
    def size(m: re.Match[str]) -> str:
        if m.group(1) not in sizes:
            raise ZsbedError(f"{entry}: no size '{m.group(1)}' in [sizes.{variant}] "
                             f"or [sizes.default]")
        return sizes[m.group(1)]

    filled = PLACEHOLDER.sub(size, arg)
    if "{" in PLACEHOLDER.sub("", arg) or "}" in PLACEHOLDER.sub("", arg):
        raise ZsbedError(f"{entry}: {arg!r}: a brace that is not a {{name}} placeholder")
    return filled


def load(plan_file: Path, variant: str, progs: dict[str, Path],
         timeout_scale: float = 1.0) -> list[Program]:
    """Read a plan; ``progs`` maps program names to built binaries."""
    where = paths.show(plan_file)
    data = tomlfile.read(plan_file)
    sizes = _sizes(data, variant, where)
    runs = data.get("run")
    if not isinstance(runs, list) or not runs:
        raise ZsbedError(f"{where}: no [[run]] entries")
    prefix = f"selftests.{plan_file.parent.name}"
    programs = []
    seen = set()
    for index, run in enumerate(runs, 1):
        entry = f"{where}: [[run]] #{index}"
        if not isinstance(run, dict):
            raise ZsbedError(f"{entry}: must be a table")
        name = run.get("name")
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise ZsbedError(f"{entry}: 'name' must be a word ([A-Za-z0-9_.-])")
        if name in seen:
            raise ZsbedError(f"{entry}: name '{name}' used twice")
        seen.add(name)
        unknown = set(run) - {"name", "program", "args", "timeout"}
        if unknown:
            raise ZsbedError(f"{entry} ({name}): unknown key '{sorted(unknown)[0]}'")
        program = run.get("program", name)
        if not isinstance(program, str) or program not in progs:
            raise ZsbedError(f"{entry} ({name}): program '{program}' is not in "
                             f"TEST_GEN_PROGS ({', '.join(sorted(progs))})")
        args = run.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise ZsbedError(f"{entry} ({name}): 'args' must be a list of strings")
        args = [_fill(a, sizes, f"{entry} ({name})", variant) for a in args]
        timeout = run.get("timeout", DEFAULT_TIMEOUT)
        if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
            raise ZsbedError(f"{entry} ({name}): 'timeout' must be a positive integer")
        prog = Program(name=f"{prefix}.{name}", argv=(str(progs[program]), *args),
                       timeout=max(1, int(timeout * timeout_scale)))
        if plan_problem(prog):
            raise ZsbedError(f"{entry} ({name}): {plan_problem(prog)}")
        programs.append(prog)
    return programs
