"""Cases -> pytest tests, JUnit XML and summary.json."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from zsbed.results import report
from zsbed.plan.parse import Case

REPO = Path(__file__).resolve().parent.parent


def test_cases_become_pytest_tests(tmp_path: Path) -> None:
    cases = [Case("kunit.zsmalloc.a", "passed", None),
             Case("kunit.zsmalloc.b", "failed", None, "EXPECTATION FAILED", "log line"),
             Case("boot.main", "passed", 0.4),
             Case("selftests.zsmalloc.zram_swap.exit", "skipped", 0.1, "KSFT_SKIP"),
             Case("kunit.zsmalloc.<suite>", "error", None, "KTAP status TEST_CRASHED")]
    info = report.RunInfo(variant="default", kernel="7.3.4 (test)")
    report.write_cases(tmp_path, info, cases)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "pytest", *report.pytest_args(tmp_path, [])],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    outcomes = {t["name"]: t["outcome"] for t in summary["tests"]}
    assert outcomes == {"kunit.zsmalloc.a": "passed", "kunit.zsmalloc.b": "failed",
                        "boot.main": "passed", "selftests.zsmalloc.zram_swap.exit": "skipped",
                        "kunit.zsmalloc.<suite>": "error"}
    assert summary["counts"] == {"passed": 2, "failed": 1, "skipped": 1, "error": 1}
    assert all(t["variant"] == "default" and t["kernel"] == "7.3.4 (test)" for t in summary["tests"])
    junit = (tmp_path / "junit.xml").read_text()
    assert 'name="kunit.zsmalloc.b"' in junit and "EXPECTATION FAILED" in junit

    # -k selects; summary.json lists only what ran.
    proc = subprocess.run([sys.executable, "-m", "pytest",
                           *report.pytest_args(tmp_path, ["-k", "boot"])],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [t["name"] for t in summary["tests"]] == ["boot.main"]


def test_summary_and_junit_agree_with_the_ktap(ktree: Path, data: Path, tmp_path: Path) -> None:
    """Saved KTAP (nested KUnit suites, a failing selftest) end to end."""
    from xml.etree import ElementTree

    from zsbed.plan.parse import parse_ktap

    cases = (parse_ktap(ktree, (data / "kunit-nested.log").read_text().splitlines(), "kunit")
             + parse_ktap(ktree, (data / "selftest-fail.ktap").read_text().splitlines(), "st"))
    expected = {c.name: c.outcome for c in cases}
    assert len(expected) == len(cases)
    report.write_cases(tmp_path, report.RunInfo(variant="fast", kernel="7.3.4 (test)"), cases)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "pytest", *report.pytest_args(tmp_path, [])],
                   cwd=tmp_path, env=env, capture_output=True, text=True)

    summary = {t["name"]: t["outcome"] for t in
               json.loads((tmp_path / "summary.json").read_text())["tests"]}
    assert summary == expected
    junit = {}
    for tc in ElementTree.parse(tmp_path / "junit.xml").iter("testcase"):
        kinds = [child.tag for child in tc if child.tag in ("failure", "error", "skipped")]
        junit[tc.get("name")] = {"failure": "failed", "error": "error",
                                 "skipped": "skipped"}[kinds[0]] if kinds else "passed"
    assert junit == expected
    assert expected["kunit.zsmalloc.zsmalloc_deferred_flush"] == "failed"
    assert expected["st.read back 4096 pages, 17 mismatched"] == "failed"


def test_junit_on_a_full_disk_is_one_line(tmp_path: Path) -> None:
    """pytest writes junit.xml into the run; /dev/full answers ENOSPC."""
    report.write_cases(tmp_path, report.RunInfo(variant="fast", kernel="7.3.4 (test)"),
                       [Case("boot.main", "passed", 0.4)])
    (tmp_path / "junit.xml").symlink_to("/dev/full")
    code = ("import sys; from pathlib import Path; from zsbed.results import report\n"
            "from zsbed.core.errors import ZsbedError\n"
            "try: report.run_pytest(Path(sys.argv[1]), [])\n"
            "except ZsbedError as e: print('ERROR', e)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert proc.stdout.splitlines()[-1] == (f"ERROR {tmp_path}: the disk is full (no space left "
                                            f"on device); free some space and run again")
    assert "Traceback" not in proc.stdout + proc.stderr


def test_test_data_keeps_what_no_given_run_booted(tmp_path: Path) -> None:
    """make test-data from UML runs keeps the x86_64 guest's saved ids, and says so."""
    import json

    from zsbed.plan.parse import Case
    from zsbed.results import report as rep

    out = tmp_path / "data"
    out.mkdir()
    (out / "case-ids.json").write_text(json.dumps(
        {"plan": {"fast": ["selftests.old"], "x86-kcsan": ["selftests.k"]},
         "scenarios": {"kcsan-free-record-race": ["fault.kcsan-free-record-race.x"]}}))
    run = tmp_path / "run"
    run.mkdir()
    rep.write_cases(run, rep.RunInfo("fast", "7.3"), [Case("selftests.new", "passed", 0.1)])
    written = rep.save_test_data([run], out)
    data = json.loads((out / "case-ids.json").read_text())
    assert data["plan"] == {"fast": ["selftests.new"], "x86-kcsan": ["selftests.k"]}
    assert data["scenarios"] == {"kcsan-free-record-race": ["fault.kcsan-free-record-race.x"]}
    assert written[0] == "case-ids.json (kept from before: x86-kcsan, kcsan-free-record-race)"
