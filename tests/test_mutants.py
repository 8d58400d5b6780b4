"""The mutant list loader and the killed/survived verdict."""
from __future__ import annotations

from pathlib import Path

import pytest

import json

from zsbed.mutants import handwritten as mutants
from zsbed.plan import fault
from zsbed.verdict import verdict
from zsbed.core.errors import ZsbedError
from zsbed.plan.parse import Case


def _write(tmp: Path, body: str) -> Path:
    (tmp / "m.patch").write_text("--- a/x\n+++ b/x\n")
    (tmp / "mutants.toml").write_text(body)
    return tmp / "mutants.toml"


GOOD = ('[[mutant]]\nname = "m"\npatch = "m.patch"\nguards = "g"\n'
        'variants = ["fast"]\ncaught_by = ["dmesg."]\n')


def test_load(tmp_path: Path) -> None:
    (m,) = mutants.load(_write(tmp_path, GOOD))
    assert (m.name, m.variants, m.caught_by) == ("m", ("fast",), ("dmesg.",))


@pytest.mark.parametrize("body, message", [
    (GOOD.replace('guards = "g"\n', ""), r"#1: missing key 'guards'"),
    (GOOD + 'extra = 1\n', r"#1: unknown key 'extra'"),
    (GOOD.replace('["fast"]', "[]"), r"\(m\): 'variants' must be a non-empty list"),
    (GOOD.replace('"m.patch"', '"nope.patch"'), r"\(m\): patch nope.patch: No such file"),
    ("", r"no \[\[mutant\]\] entries"),
])
def test_bad_mutant_file(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ZsbedError, match=message):
        mutants.load(_write(tmp_path, body))


def test_real_mutant_file_loads() -> None:
    assert len(mutants.load()) >= 3


def test_verdict_needs_an_expected_case_to_fail(tmp_path: Path) -> None:
    (m,) = mutants.load(_write(tmp_path, GOOD.replace('["dmesg."]', '["dmesg.main"]')))
    other_failure = [Case("selftests.x.memory_returned", "failed", None, "leak")]
    run = verdict.mutant_run(m.caught_by, other_failure)
    assert not run.killed and run.other == ["selftests.x.memory_returned"]
    caught = [Case("dmesg.main", "failed", None, "1 kernel report(s), first: [SLUB] BUG zs_handle")]
    run = verdict.mutant_run(m.caught_by, caught)
    assert run.killed and run.by == ["dmesg.main"] and "SLUB" in run.how
    # an id is exact: a case whose name merely contains it does not count
    assert not verdict.mutant_run(["dmesg.main"], [Case("dmesg.main2", "failed", None)]).killed


def _ids(data: Path) -> dict[str, dict[str, list[str]]]:
    return json.loads((data / "case-ids.json").read_text())


def test_every_caught_by_names_real_cases(data: Path) -> None:
    """Each caught_by entry matches a case the mutant's own boot really has."""
    ids = _ids(data)
    for m in mutants.load():
        for variant in m.variants:
            if m.scenario:
                real = ids["scenarios"][m.scenario]
            else:
                real = ids["plan"][variant]
            for pattern in m.caught_by:
                assert any(verdict.matches(pattern, n) for n in real), (
                    f"{m.name} ({variant}): caught_by '{pattern}' names no case of "
                    f"{m.scenario or 'the plan'}")


def test_mutant_scenarios_exist() -> None:
    names = {s.name for t in ("uml", "qemu") for s in fault.scenarios(target_name=t)}
    assert {m.scenario for m in mutants.load() if m.scenario} <= names


def test_every_mutant_applies_exactly_on_the_series(ktree: Path, tmp_path: Path) -> None:
    # with --fuzz=0, as make mutants applies them: a mutant whose context
    # went stale when the series changed must fail here, not at run time
    from zsbed.kernel.patch import apply_to_scratch, select_patches

    series = select_patches(None)
    for m in mutants.load():
        scratch = tmp_path / m.name
        scratch.mkdir()
        apply_to_scratch(ktree, series + [m.patch], scratch)
