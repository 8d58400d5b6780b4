"""SHARD=i/N: the partition, its input, and what make merge makes of the records."""
from __future__ import annotations

from pathlib import Path

import pytest

from zsbed.cli import cli
from zsbed.coverage import coverage
from zsbed.mutants import handwritten as mutants
from zsbed.plan import fault
from zsbed.results import shard
from zsbed.verdict import verdict
from zsbed.core.errors import ZsbedError


def _lists() -> dict[str, list[str]]:
    """The real lists zsbed splits, and a made-up long one."""
    scenarios = fault.scenarios()
    return {
        "fault": [s.name for s in scenarios],
        "mutants": [mutants.entry(*p) for p in mutants.pairs(mutants.load())],
        "coverage": [coverage.entry(m, b) for m in coverage.MODES
                     for b in ["main", *(f"fault.{s.name}" for s in scenarios)]],
        "made-up": [f"entry-{n}" for n in range(200)],
    }


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7])
def test_the_shards_are_the_whole_list_once(n: int) -> None:
    for what, whole in _lists().items():
        shards = [shard.Shard(i, n).pick(whole, str) for i in range(1, n + 1)]
        taken = [e for s in shards for e in s]
        assert sorted(taken) == sorted(whole), what            # union, and no entry twice
        for s in shards:                                        # each keeps the list's order
            assert s == [e for e in whole if e in s]


@pytest.mark.parametrize("n", [2, 3, 4, 6])
def test_adding_an_entry_moves_no_other(n: int) -> None:
    for what, whole in _lists().items():
        before = {e: shard.of(e, n) for e in whole}
        for new in ("a-new-scenario", "zzz", "aaa:fast", "0"):
            grown = sorted([*whole, new])
            after = {e: i for i in range(1, n + 1) for e in shard.Shard(i, n).pick(grown, str)}
            assert {e: after[e] for e in whole} == before, (what, new)


def test_every_shard_of_the_real_lists_gets_something_at_three() -> None:
    # not a rule of the partition, but the workflow's 3 shards should all work
    for what in ("fault", "mutants"):
        assert all(shard.Shard(i, 3).pick(_lists()[what], str) for i in (1, 2, 3)), what


@pytest.mark.parametrize("text, message", [
    ("0/3", "SHARD=0/3: i must be between 1 and N (3)"),
    ("4/3", "SHARD=4/3: i must be between 1 and N (3)"),
    ("1/0", "SHARD=1/0: N must be at least 1"),
    ("abc", "SHARD=abc: must be i/N, shard i of N (e.g. SHARD=2/3)"),
    ("1/3/4", "SHARD=1/3/4: must be i/N"),
    ("-1/3", "SHARD=-1/3: must be i/N"),
    (" 1/3", "SHARD= 1/3: must be i/N"),
    ("1/9999999", "SHARD=1/9999999: must be i/N"),
])
def test_bad_shard(text: str, message: str) -> None:
    with pytest.raises(ZsbedError) as exc:
        shard.parse(text)
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value)


def test_good_shard() -> None:
    assert shard.parse("2/3") == shard.Shard(2, 3) and shard.parse(None) == shard.WHOLE
    assert shard.parse("1/1").suffix == "" and shard.parse("2/3").suffix == "-shard2of3"


def test_fault_list_shows_each_shards_list(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    monkeypatch.setattr(cli.paths, "WORK", tmp_path)        # the run lock

    def listed(argv: list[str]) -> list[str]:
        assert cli.main(["fault", "--list", *argv]) == 0
        out = capsys.readouterr()
        return [line.split()[0] for line in out.out.splitlines()]

    whole = listed([])
    shards = [listed(["--shard", f"{i}/3"]) for i in (1, 2, 3)]
    assert sorted(sum(shards, [])) == sorted(whole)
    assert cli.main(["fault", "--list", "--shard", "2/3"]) == 0
    assert f"shard 2/3: {len(shards[1])} of {len(whole)} scenarios" in capsys.readouterr().err


# -- the records and their verdict ---------------------------------------------

def _record(tmp: Path, part: str, i: int, n: int, whole: list[str],
            exit: int | None = 0) -> shard.Record:
    run = tmp / f"{part}-{i}of{n}-{len(list(tmp.iterdir()))}"
    run.mkdir()
    s = shard.Shard(i, n)
    shard.start(run, part, s, s.pick(whole, str), whole)
    if exit is not None:
        shard.finish(run, exit)
    return shard.read(run)


WHOLE = ["a", "b", "c", "d", "e", "f", "g"]


def test_complete_shards_have_no_problem(tmp_path: Path) -> None:
    recs = [_record(tmp_path, "fault", i, 3, WHOLE) for i in (1, 2, 3)]
    recs.append(_record(tmp_path, "uml-test:fast", 1, 1, ["main"]))
    assert verdict.shard_problems(recs, ["fault", "uml-test:fast"]) == []


def test_missing_failed_unfinished_and_odd_shards(tmp_path: Path) -> None:
    one = _record(tmp_path, "fault", 1, 3, WHOLE)
    three = _record(tmp_path, "fault", 3, 3, WHOLE, exit=1)
    problems = verdict.shard_problems([one, three], ["fault", "coverage"])
    assert problems[0] == "coverage: no results (its job left none)"
    assert "fault: shard 2/3 missing" in problems
    assert any(p.startswith("fault: shard 3/3 (") and p.endswith(") failed (exit 1)")
               for p in problems)
    unfinished = _record(tmp_path, "fault", 2, 3, WHOLE, exit=None)
    assert any(p.endswith("did not finish")
               for p in verdict.shard_problems([one, unfinished, three]))
    again = _record(tmp_path, "fault", 1, 3, WHOLE)
    assert any("shard 1/3 given twice" in p for p in verdict.shard_problems([one, again]))
    other = _record(tmp_path, "fault", 2, 3, WHOLE + ["h"])
    assert any("split from different lists" in p
               for p in verdict.shard_problems([one, other, three]))
    four = _record(tmp_path, "fault", 2, 4, WHOLE)
    assert verdict.shard_problems([one, four]) == ["fault: shards of different splits (1/3, 2/4)"]


def test_a_record_that_is_not_one(tmp_path: Path) -> None:
    with pytest.raises(ZsbedError, match=r"no shard.json \(not the results directory"):
        shard.read(tmp_path)
    (tmp_path / "shard.json").write_text('{"part": "fault"}')
    with pytest.raises(ZsbedError, match=r"shard.json: not a shard record"):
        shard.read(tmp_path)
    (tmp_path / "shard.json").write_text('{"part": ')
    with pytest.raises(ZsbedError, match=r"shard.json: cannot be read \(JSONDecodeError\)"):
        shard.read(tmp_path)
    with pytest.raises(ZsbedError, match=r"nope: no such directory"):
        shard.read(tmp_path / "nope")


def test_differences_case_for_case() -> None:
    a = [("fault x", "passed"), ("fault y", "passed"), ("cov k", "passed"), ("cov k", "passed")]
    assert verdict.differences(a, list(reversed(a))) == []
    b = [("fault x", "failed"), ("fault y", "passed"), ("cov k", "passed")]
    assert verdict.differences(a, b) == ["cov k: sharded passed, unsharded absent",
                                         "fault x: sharded passed, unsharded failed"]


def test_flaky_rows_of_shards_add_up() -> None:
    left = [{"case": "k", "runs": 2, "failed": 0, "skipped": 0, "first_failure": ""}]
    right = [{"case": "k", "runs": 2, "failed": 1, "skipped": 0, "first_failure": "boom"},
             {"case": "s", "runs": 2, "failed": 0, "skipped": 2, "first_failure": ""}]
    assert verdict.merge_flaky_rows([left, right]) == [
        {"case": "k", "runs": 4, "failed": 1, "skipped": 0, "first_failure": "boom"},
        {"case": "s", "runs": 2, "failed": 0, "skipped": 2, "first_failure": ""}]
