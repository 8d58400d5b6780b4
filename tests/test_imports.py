"""The import graph of zsbed/: no cycle, cli only at the top, and the
loaders of the bed's input files (fragments, scenarios, the plan) do not
pull in the machine layer (boot, qemu). Every import counts, a lazy one
inside a function too."""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "zsbed"


def graph() -> dict[str, set[str]]:
    """module -> the zsbed modules it imports."""
    mods = {p.stem for p in PKG.glob("*.py")}
    out: dict[str, set[str]] = {}
    for name in mods:
        deps: set[str] = set()
        for node in ast.walk(ast.parse((PKG / f"{name}.py").read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "zsbed":
                deps |= {a.name for a in node.names if a.name in mods}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("zsbed."):
                deps.add((node.module or "").split(".")[1])
            elif isinstance(node, ast.Import):
                deps |= {a.name.split(".")[1] for a in node.names if a.name.startswith("zsbed.")}
        out[name] = deps & mods - {name}
    return out


def reach(g: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for dep in g[todo.pop()] - seen:
            seen.add(dep)
            todo.append(dep)
    return seen


def cycles(g: dict[str, set[str]]) -> list[str]:
    return sorted(m for m in g if m in reach(g, m))


def test_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_cli_is_the_top() -> None:
    g = graph()
    assert sorted(m for m, deps in g.items() if "cli" in deps) == ["__main__"]


def test_input_loaders_do_not_load_the_machines() -> None:
    g = graph()
    for loader in ("configure", "fault", "plan", "mutants", "coverage"):
        assert not reach(g, loader) & {"boot", "qemu", "cli"}, loader


def test_a_cycle_is_found() -> None:
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == ["a", "b"]
