"""make merge, with the boots faked: the shards of a run merged are the
unsharded run, case for case."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable
from xml.etree import ElementTree

import pytest

from zsbed.cli import cli
from zsbed.kernel import fetch as kfetch, prepared
from zsbed.plan import boots
from zsbed.core import deps, disk, paths
from zsbed.coverage import coverage
from zsbed.mutants import handwritten as mutants
from zsbed.plan import fault
from zsbed.results import merge, report, shard
from zsbed.verdict import verdict
from zsbed.core.errors import ZsbedError
from zsbed.plan.parse import Case


def fake_pytest(run: Path, extra: list[str]) -> int:
    """What run_pytest leaves (summary.json, junit.xml) without pytest."""
    info, cases = report.load_cases(run / report.CASES)
    report.write_summary(run, [report.summary_entry(c, info, c.outcome) for c in cases])
    suites = ElementTree.Element("testsuites")
    failed = sum(c.outcome == "failed" for c in cases)
    suite = ElementTree.SubElement(suites, "testsuite", name="zsbed", errors="0",
                                   failures=str(failed), skipped="0", tests=str(len(cases)),
                                   time="0.010", timestamp="t", hostname="h")
    for c in cases:
        case = ElementTree.SubElement(suite, "testcase", classname="", name=c.name, time="0")
        if c.outcome == "failed":
            ElementTree.SubElement(case, "failure", message=c.message).text = c.message
    disk.write_bytes(run / "junit.xml", ElementTree.tostring(suites))
    return 1 if failed else 0


@pytest.fixture
def bed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[list[str]], Path]:
    """cli.main with every boot faked; returns the results directory it made.
    A scenario named in ``bed.failing`` fails its expectation."""
    monkeypatch.setattr(paths, "WORK", tmp_path / "work")
    monkeypatch.setattr(paths, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(report, "_current", [])
    monkeypatch.setattr(report, "run_pytest", fake_pytest)
    monkeypatch.setattr(kfetch, "fetch", lambda ksrc: SimpleNamespace(kernel="7.3.4 (test)"))
    # two mutants may share a patch (one with a scenario, one without)
    by_patch = {(m.patch.name, m.scenario): m for m in mutants.load()}
    failing: set[str] = set()

    def caught(extra: tuple[Any, ...], scenario: str | None = None) -> list[Case]:
        if not extra:
            return []
        m = by_patch[(extra[0].name, scenario)]
        return [Case(m.caught_by[0].replace("*", "x"), "failed", None, "caught")]

    def scenario_cases(req: Any, scenario: Any, results: Path, extra: tuple[Any, ...] = (),
                       wrap: Any = None) -> list[Case]:
        outcome = "failed" if scenario.name in failing else "passed"
        return caught(extra, scenario.name) + [
            Case(f"boot.fault.{scenario.name}", "passed", 0.5),
            Case(f"fault.{scenario.name}.expect.x.min", outcome, None, "x")]

    monkeypatch.setattr(boots, "scenario_cases", scenario_cases)
    monkeypatch.setattr(prepared, "prepare", lambda req, extra=(): extra)
    monkeypatch.setattr(boots, "selftest_cases",
                        lambda prep, *a, **k: caught(prep) + [Case("kunit.zsmalloc.a", "passed", 0.1)])

    def main(argv: list[str]) -> Path:
        cli.main(argv)
        run = report.current_run()
        assert run is not None
        return run

    main.failing = failing          # type: ignore[attr-defined]
    return main


def _merged(dirs: list[Path], **kw: bool) -> tuple[int, Path]:
    code = merge.merge(dirs, **kw)
    run = report.current_run()
    assert run is not None
    return code, run


def _summary(run: Path) -> dict[str, Any]:
    return json.loads((run / "summary.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize("n", [2, 3])
def test_sharded_fault_and_mutants_merge_to_the_unsharded_run(
        bed: Callable[[list[str]], Path], n: int) -> None:
    shards = [bed([what, "--shard", f"{i}/{n}"]) for what in ("fault", "mutants")
              for i in range(1, n + 1)]
    whole = [bed(["fault"]), bed(["mutants"])]
    assert [shard.read(d).part for d in shards].count("fault") == n
    code_a, a = _merged(shards)
    code_b, b = _merged(whole)
    assert (code_a, code_b) == (0, 0)
    assert merge.cases(a) and not verdict.differences(merge.cases(a), merge.cases(b))
    assert _summary(a)["counts"] == _summary(b)["counts"]
    assert (a / "mutants.md").read_text() == (b / "mutants.md").read_text()
    junit_a = ElementTree.parse(a / "junit.xml").getroot()
    junit_b = ElementTree.parse(b / "junit.xml").getroot()
    assert junit_a.attrib == junit_b.attrib
    assert [s.get("name") for s in junit_a] == ["fault"]        # mutants leave no junit.xml
    assert sorted(c.get("name", "") for c in junit_a.iter("testcase")) == \
        sorted(c.get("name", "") for c in junit_b.iter("testcase"))


def test_a_missing_or_failed_shard_fails_the_merge(bed: Callable[[list[str]], Path],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    one, two, three = (bed(["fault", "--shard", f"{i}/3"]) for i in (1, 2, 3))
    capsys.readouterr()
    assert _merged([one, three])[0] == 1
    assert "zsbed: [merge] fault: shard 2/3 missing" in capsys.readouterr().err
    bed.failing.add(shard.read(two).entries[0])         # type: ignore[attr-defined]
    two = bed(["fault", "--shard", "2/3"])
    assert shard.read(two).exit == 1
    code, run = _merged([one, two, three], expect_matrix=True)
    err = capsys.readouterr().err
    assert code == 1 and "shard 2/3 (" in err and ") failed (exit 1)" in err
    assert "uml-test:fast: no results (its job left none)" in err
    assert _summary(run)["counts"]["failed"] == 1


def test_bad_results_are_one_line(bed: Callable[[list[str]], Path],
                                  capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["merge"]) == 2
    assert capsys.readouterr().err == ('zsbed: error: RESULTS=: name the results directories '
                                       'to merge (make merge RESULTS="dir...")\n')
    assert cli.main(["merge", str(tmp_path)]) == 2
    assert "no shard.json (not the results directory" in capsys.readouterr().err


def test_an_empty_shard_passes_and_merges(bed: Callable[[list[str]], Path]) -> None:
    whole = bed(["fault", "--scenario", "alloc-failures"])
    shards = [bed(["fault", "--scenario", "alloc-failures", "--shard", f"{i}/4"])
              for i in range(1, 5)]
    assert sorted(len(shard.read(d).entries) for d in shards) == [0, 0, 0, 1]
    assert all(shard.read(d).exit == 0 for d in shards)
    code, run = _merged(shards)
    assert code == 0 and _summary(run)["counts"] == _summary(whole)["counts"]


# -- coverage: the shards' tracefiles, reported as one run ---------------------

SRC = "void zs_free(void)\n{\n\tread_lock(&pool->lock);\n}\n"
SITE = ('[[site]]\nname = "s"\nwhat = "w"\nfile = "mm/zsmalloc.c"\nfunction = "zs_free"\n'
        'marker = "read_lock"\nmodes = ["fallback"]\n')


@pytest.fixture
def src(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A one-site list, gcovr faked, and the instrumented files of a tree."""
    (tmp_path / "sites.toml").write_text(SITE)
    monkeypatch.setattr(coverage, "SITES", tmp_path / "sites.toml")
    monkeypatch.setattr(deps, "ensure", lambda **_: None)
    monkeypatch.setattr(coverage, "gcovr", lambda args, what: Path(
        args[args.index("--json-summary") + 1]).write_text('{"files": []}'))
    for f in coverage.FILES:
        (tmp_path / "src" / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / f).write_text(SRC)
    return tmp_path / "src"


def test_coverage_shards_merge_like_one_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            data: Path, src: Path) -> None:
    monkeypatch.setattr(paths, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(report, "_current", [])
    trace = json.loads((data / "gcovr-trace.json").read_text())
    trace["files"][0]["lines"] = [{"line_number": 3, "count": 5, "branches": []}]
    boots = ["main", "fault.a", "fault.b"]
    whole = [coverage.entry("fallback", b) for b in boots]

    def made(s: shard.Shard) -> Path:
        run = report.new_run("coverage" + s.suffix)
        entries = s.pick(whole, str)
        shard.start(run, "coverage", s, entries, whole)
        for e in entries:
            boot = e.split(":")[1]
            (run / "fallback" / "gcov" / boot).mkdir(parents=True)
            disk.write_json(run / "fallback" / "gcov" / boot / "p.json", trace)
        coverage.save_sources(src, run)
        shard.finish(run, 0)
        return run

    one = made(shard.WHOLE)
    results, _ = coverage.report(src, coverage.saved_traces([one], whole), one / "coverage")
    assert results[0].hits == {"fallback": 15} and results[0].first == {"fallback": "main: p"}
    code, run = _merged([made(shard.Shard(i, 2)) for i in (1, 2)])
    sites = json.loads((run / "coverage" / "sites.json").read_text())["sites"]
    assert code == 0 and (sites[0]["hits"], sites[0]["first_hit_by"]) == (
        {"fallback": 15}, {"fallback": "main: p"})
    # a whole run's report is taken as it is
    code, run = _merged([one])
    assert (run / "coverage" / "sites.json").read_text() == \
        (one / "coverage" / "sites.json").read_text()
    # shards built from different sources are not one run
    (src / coverage.FILES[0]).write_text(SRC + "\n")
    with pytest.raises(ZsbedError, match=r"differs from .*: the coverage shards did not build "
                                         r"the same series"):
        merge.merge([made(shard.Shard(1, 2)), made(shard.Shard(2, 2)), one])


def test_sharded_coverage_runs_merge_to_the_unsharded_one(
        bed: Callable[[list[str]], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        data: Path, src: Path) -> None:
    prep = SimpleNamespace(src=src, kernel=SimpleNamespace(bdir=tmp_path),
                           selftests=[Path("gcov_collect")])
    monkeypatch.setattr(prepared, "prepare", lambda req, extra=(): prep)
    monkeypatch.setattr(boots, "selftest_cases",
                        lambda *a, **k: [Case("kunit.zsmalloc.a", "passed", 0.1)])
    trace = json.loads((data / "gcovr-trace.json").read_text())

    def tracefiles(src: Path, bdir: Path, results: Path, boots: list[str]) -> list[Any]:
        out = []
        for boot in boots:          # the plan misses the site: a scenario hits it first
            count = 0 if boot == "main" else len(boot)
            trace["files"][0]["lines"] = [{"line_number": 3, "count": count, "branches": []}]
            (results / "gcov" / boot).mkdir(parents=True)
            disk.write_json(results / "gcov" / boot / "p.json", trace)
            out.append(coverage.Trace(boot, "p", results / "gcov" / boot / "p.json"))
        return out

    monkeypatch.setattr(coverage, "tracefiles", tracefiles)
    whole = bed(["coverage"])
    shards = [bed(["coverage", "--shard", f"{i}/3"]) for i in (1, 2, 3)]
    assert sorted(e for d in shards for e in shard.read(d).entries) == \
        sorted(shard.read(whole).whole)
    assert not (shards[0] / "coverage").exists()         # a shard judges no site
    code, merged = _merged(shards)
    assert code == 0
    assert not verdict.differences(merge.cases(merged), merge.cases(
        _merged([whole])[1]))
    site = json.loads((merged / "coverage" / "sites.json").read_text())["sites"][0]
    want = json.loads((whole / "coverage" / "sites.json").read_text())["sites"][0]
    first = f"fault.{fault.scenarios()[0].name}: p"
    assert site["first_hit_by"] == want["first_hit_by"] == {"fallback": first,
                                                            "classbits": first}
    assert site["hits"] == want["hits"] and want["hits"]["fallback"] > 0


def test_sharded_flaky_runs_merge_to_the_unsharded_one(bed: Callable[[list[str]], Path]) -> None:
    whole = bed(["flaky", "--n", "2"])
    shards = [bed(["flaky", "--n", "2", "--shard", f"{i}/2"]) for i in (1, 2)]
    code, merged = _merged(shards)
    assert code == 0
    assert json.loads((merged / "flaky.json").read_text())["cases"] == \
        json.loads((whole / "flaky.json").read_text())["cases"]


def test_junit_of_real_pytest_output_merges(tmp_path: Path, data: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "RESULTS", tmp_path / "results")
    runs = []
    for i in (1, 2):
        run = tmp_path / f"r{i}"
        run.mkdir()
        shutil.copy(data / "junit-sample.xml", run / "junit.xml")
        shard.start(run, "fault", shard.Shard(i, 2), [], [])
        runs.append(shard.read(run))
    merge.junit({"fault": runs}, tmp_path / "junit.xml")
    root = ElementTree.parse(tmp_path / "junit.xml").getroot()
    (suite,) = root
    assert suite.get("name") == "fault" and len(suite.findall("testcase")) == 8
    assert {k: suite.get(k) for k in merge.COUNTS} == {"tests": "8", "failures": "2",
                                                       "errors": "2", "skipped": "2"}
    assert root.get("tests") == "8" and suite.get("time") == "0.132"


def test_each_command_asks_for_the_kernel_it_did_before_the_split(
        bed: Callable[[list[str]], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Which variant and target each boot's kernel is prepared for: fault
    without VARIANT= lets each scenario name its own, flaky's scenarios run
    on UML, mutants and coverage ask for their variants."""
    asked: list[tuple[str, str | None, str]] = []
    real = boots.scenario_cases
    monkeypatch.setattr(prepared, "prepare",
                        lambda req, extra=(): asked.append(("prepare", req.variant, req.target))
                        or extra)

    def scenario_cases(req: Any, scenario: Any, results: Path, extra: Any = (),
                       wrap: Any = None) -> list[Case]:
        asked.append((scenario.name, req.variant, req.target))
        return real(req, scenario, results, extra, wrap)

    monkeypatch.setattr(boots, "scenario_cases", scenario_cases)
    bed(["fault", "--scenario", "alloc-failures"])
    assert asked == [("alloc-failures", None, "uml")]
    asked.clear()
    bed(["fault", "--scenario", "alloc-failures", "--variant", "classbits"])
    assert asked == [("alloc-failures", "classbits", "uml")]
    asked.clear()
    bed(["flaky", "--n", "1", "--variants", "deep", "--shard", "1/1"])
    assert asked[0] == ("prepare", "deep", "uml")
    assert {a[1:] for a in asked[1:]} == {(None, "uml")}
