"""The selftest plan: which programs a boot runs, with which arguments.

``selftests/<dir>/plan.toml`` lists runs in order; ``{placeholder}``
arguments take the variant's ``[sizes.<variant>]`` values (falling back to
``[sizes.default]``). A malformed plan fails with the file, the entry and
what is wrong.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from zsbed import paths, tomlfile
from zsbed.errors import ZsbedError
from zsbed.run import Program

DEFAULT_TIMEOUT = 60
NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def _sizes(data: dict[str, Any], variant: str, where: str) -> dict[str, str]:
    sizes = data.get("sizes", {})
    if not isinstance(sizes, dict):
        raise ZsbedError(f"{where}: [sizes] must be a table")
    chosen = sizes.get(variant, sizes.get("default", {}))
    if not isinstance(chosen, dict):
        raise ZsbedError(f"{where}: [sizes.{variant}] must be a table")
    return {str(k): str(v) for k, v in chosen.items()}


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
        name = run.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise ZsbedError(f"{entry}: 'name' must be a word ([A-Za-z0-9_.-])")
        if name in seen:
            raise ZsbedError(f"{entry}: name '{name}' used twice")
        seen.add(name)
        unknown = set(run) - {"name", "program", "args", "timeout"}
        if unknown:
            raise ZsbedError(f"{entry} ({name}): unknown key '{sorted(unknown)[0]}'")
        program = run.get("program", name)
        if program not in progs:
            raise ZsbedError(f"{entry} ({name}): program '{program}' is not in "
                             f"TEST_GEN_PROGS ({', '.join(sorted(progs))})")
        args = run.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise ZsbedError(f"{entry} ({name}): 'args' must be a list of strings")
        try:
            args = [a.format_map(sizes) for a in args]
        except KeyError as exc:
            raise ZsbedError(f"{entry} ({name}): no size {exc} in [sizes.{variant}] "
                             f"or [sizes.default]") from exc
        timeout = run.get("timeout", DEFAULT_TIMEOUT)
        if not isinstance(timeout, int) or timeout <= 0:
            raise ZsbedError(f"{entry} ({name}): 'timeout' must be a positive integer")
        programs.append(Program(name=f"{prefix}.{name}", argv=(str(progs[program]), *args),
                                timeout=int(timeout * timeout_scale)))
    return programs
