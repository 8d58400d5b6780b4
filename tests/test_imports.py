"""The import graph of zsbed/: no cycle between modules, core at the
bottom, cli on top, and the loaders of the bed's input files (fragments,
scenarios, the plan, the mutants, the coverage sites) do not pull in the
machine layer. Every import counts, a lazy one inside a function too."""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "zsbed"


def modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of zsbed/ (packages too)."""
    out = {}
    for f in PKG.rglob("*.py"):
        parts = f.relative_to(PKG.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    return out


def graph() -> dict[str, set[str]]:
    """module -> the zsbed modules it imports."""
    mods = modules()
    out: dict[str, set[str]] = {}
    for name, f in mods.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("zsbed"):
                base = node.module or ""
                for a in node.names:
                    deps.add(f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name in mods}
        out[name] = {d for d in deps if d in mods and d != name and d != "zsbed"}
    return out


def part(module: str) -> str:
    """The subpackage a module belongs to (zsbed.core.paths -> core)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else module


def reach(g: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for dep in g.get(todo.pop(), set()) - seen:
            seen.add(dep)
            todo.append(dep)
    return seen


def cycles(g: dict[str, set[str]]) -> list[str]:
    return sorted(m for m in g if m in reach(g, m))


def test_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_core_is_the_bottom_and_cli_the_top() -> None:
    g = graph()
    for mod, deps in g.items():
        if part(mod) == "core":
            assert {part(d) for d in deps} <= {"core"}, (mod, deps)
        assert mod == "zsbed.__main__" or part(mod) == "cli" or not any(
            part(d) == "cli" for d in deps), (mod, deps)


def test_input_loaders_do_not_load_the_machines() -> None:
    g = graph()
    for loader in ("zsbed.kernel.configure", "zsbed.plan.fault", "zsbed.plan.plan",
                   "zsbed.mutants.handwritten", "zsbed.coverage.coverage"):
        assert loader in g
        assert not {part(m) for m in reach(g, loader)} & {"machine", "cli"}, loader


def test_every_module_is_in_a_part() -> None:
    # zsbed/ itself holds only the entry point: each module lives in the
    # subpackage named after what it owns
    assert sorted(m for m, f in modules().items()
                  if m.count(".") == 1 and f.name != "__init__.py") == ["zsbed.__main__"]


def test_a_cycle_is_found() -> None:
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == ["a", "b"]


def outcome_words(path: Path) -> list[int]:
    """Lines of ``path`` with an outcome written as a string."""
    words = {"passed", "failed", "skipped", "error"}
    return [n.lineno for n in ast.walk(ast.parse(path.read_text()))
            if isinstance(n, ast.Constant) and n.value in words]


def test_only_verdict_writes_an_outcome() -> None:
    # every other part uses zsbed.verdict.outcome.Outcome and the rules of
    # zsbed/verdict/; JUnit's own attribute names (merge.COUNTS) are not outcomes
    allowed = {"zsbed.results.merge": 1}
    found = {m: outcome_words(f) for m, f in modules().items() if part(m) != "verdict"}
    assert {m: len(lines) for m, lines in found.items() if lines} == allowed


def test_no_bare_run_outside_the_machine_layer() -> None:
    """A function's name says what it runs: only the machine layer runs a guest."""
    for name, f in modules().items():
        if part(name) == "machine":
            continue
        for node in ast.parse(f.read_text()).body:
            assert not (isinstance(node, ast.FunctionDef) and node.name == "run"), name
