"""make ci-local with a fake job runner and the real merge: the matrix in
sequence, the merge, the unsharded side, the comparison."""
from __future__ import annotations

from pathlib import Path

import pytest

from zsbed.ci import ci_local, matrix
from zsbed.core import disk, paths
from zsbed.results import merge, report, shard
from zsbed.core.errors import ZsbedError

ENTRIES = ["a", "b", "c", "d", "e", "f"]


class FakeJobs:
    """Each job leaves a results directory as its command would; merge is real."""

    def __init__(self, fail_sharded: str = "") -> None:
        self.ran: list[list[str]] = []
        self.fail_sharded = fail_sharded

    def __call__(self, args: list[str]) -> int:
        self.ran.append(args)
        what, rest = args[0], dict(a.split("=", 1) for a in args[1:] if "=" in a)
        if what == "merge":
            return merge.merge([Path(d) for d in rest["RESULTS"].split()],
                               expect_matrix="MATRIX" in rest)
        part = {"uml-test": f"uml-test:{rest.get('VARIANT')}"}.get(what, what)
        if part not in matrix.parts():
            return 0                                       # static, series-build
        s = shard.parse(rest.get("SHARD"))
        whole = ENTRIES if what in ("fault", "mutants") else ["main"]
        run = report.new_run(part.replace(":", "-") + s.suffix)
        entries = s.pick(whole, str)
        shard.start(run, part, s, entries, whole)
        bad = {self.fail_sharded} if s.count > 1 and what == "mutants" else set()
        report.write_summary(run, [{"name": f"{what}.{e}", "outcome": "failed" if e in bad
                                    else "passed", "duration": None, "variant": "v",
                                    "kernel": "k", "message": ""} for e in entries])
        if what == "mutants":
            disk.write_json(run / "mutants.json", [
                {"mutant": e, "variant": "fast", "guards": "g", "race": False,
                 "verdict": "killed", "kills": 1, "runs": 1, "caught_by": ["x"],
                 "other": [], "how": "x", "each": []} for e in entries])
        return shard.finish(run, 1 if bad & set(entries) else 0)


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(paths, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(report, "_current", [])
    return tmp_path / "results"


def test_ci_local_runs_the_matrix_then_compares(results: Path) -> None:
    jobs = FakeJobs()
    assert ci_local.run_matrix(3, [], ["KSRC=/k"], jobs) == 0
    makes = [" ".join(a) for a in jobs.ran]
    want = [" ".join(j.make) + " KSRC=/k" for j in matrix.expand(3)]
    assert makes[:len(want)] == want
    assert makes[len(want)].startswith("merge RESULTS=") and makes[len(want)].endswith("MATRIX=1")
    assert makes[len(want) + 1:len(want) + 3] == ["mutants KSRC=/k",
                                                  "mutation SAMPLE=30 SEED=1 KSRC=/k"]
    report_md = (results / "latest").resolve().parent
    assert any("equal case for case" in p.read_text()
               for p in report_md.glob("*merged*/ci-local.md"))


def test_ci_local_names_a_case_that_differs(results: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert ci_local.run_matrix(2, [], [], FakeJobs(fail_sharded="c")) == 1
    err = capsys.readouterr().err
    assert "mutants v mutants.c: sharded failed, unsharded passed" in err
    assert "FAILED: sharded and unsharded differ in 1 cases" in err


def test_ci_local_compares_with_given_whole_runs(results: Path) -> None:
    jobs = FakeJobs()
    given: list[Path] = []
    for what in ("fault", "mutants", "mutation"):
        jobs([what])
        given.append((results / "latest").resolve())
    jobs.ran.clear()
    assert ci_local.run_matrix(3, given, [], jobs) == 0
    assert ["mutants"] not in jobs.ran
    assert not [a for a in jobs.ran if a[0] == "mutation" and not any("SHARD" in x for x in a)]
    jobs(["fault", "SHARD=1/3"])
    with pytest.raises(ZsbedError, match=r"RESULTS=.*: shard 1/3 of fault; ci-local compares"):
        ci_local.run_matrix(3, [(results / "latest").resolve()], [], jobs)


@pytest.mark.parametrize("text, message", [("0", "N=0: must be a number of shards from 1 to 99"),
                                           ("x", "N=x: must be")])
def test_ci_local_bad_n(text: str, message: str) -> None:
    with pytest.raises(ZsbedError, match=message):
        ci_local.shards(text)
    assert ci_local.shards(None) == matrix.SHARDS
