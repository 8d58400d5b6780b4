"""Every bad input ends in one line (exit 2) before anything is fetched or
built; an unexpected exception is one line and a saved traceback (exit 3).

These are the inputs of the README's "Bad input" table, run through
``cli.main`` with fetch and the package check replaced by a tripwire.
"""
from __future__ import annotations

import errno
import json
import os
import re
import shutil
from pathlib import Path
from typing import Callable

import pytest

from zsbed.cli import cli, preflight, reference
from zsbed.core import deps, paths
from zsbed.coverage import coverage
from zsbed.kernel import configure, fetch as kfetch
from zsbed.mutants import handwritten as mutants
from zsbed.plan import fault
from zsbed.results import report

REPO = Path(__file__).resolve().parent.parent
GOOD_PATCH = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"


class Reached(BaseException):
    """The run got past its checks (to fetch or to the package check)."""


@pytest.fixture
def bed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Fetch and deps are tripwires; work/ and results/ are in tmp_path."""
    def trip(*_: object, **__: object) -> None:
        raise Reached
    monkeypatch.setattr(kfetch, "fetch", trip)
    monkeypatch.setattr(deps, "ensure", trip)
    monkeypatch.setattr(paths, "WORK", tmp_path / "work")
    monkeypatch.setattr(paths, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(report, "_current", [])
    return tmp_path


def one_line_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("zsbed: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    # make reference collects every case's line for docs/bad-input.md
    rows = os.environ.get(reference.BAD_INPUT_ROWS)
    if rows:
        with open(rows, "a") as f:
            f.write(json.dumps({"test": os.environ.get("PYTEST_CURRENT_TEST", "?"),
                                "argv": argv, "line": err.strip()}) + "\n")
    return err.removeprefix("zsbed: error: ").strip()


def _scenario(bed: Path, monkeypatch: pytest.MonkeyPatch, text: str | bytes) -> None:
    d = bed / "fault"
    d.mkdir(exist_ok=True)
    (d / "s.toml").write_bytes(text if isinstance(text, bytes) else text.encode())
    monkeypatch.setattr(fault, "FAULT_DIR", d)


SCENARIO = ('purpose = "p"\nvariant = "fast"\n[settings]\n"/sys/kernel/debug/x" = 1\n'
            '[[workload]]\nprogram = "swap_release"\nargs = ["-n", "2"]\n'
            '[[expect]]\ncounter = "stats.x"\nmin = 1\n')


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.encode().replace(b'"p"', b'"caf\xe9"'), r"s.toml:1: not UTF-8 \(byte 0xe9\)"),
    (lambda t: t.replace("min = 1", "min = true"), r"expect #1.min must be an integer"),
    (lambda t: t.replace("min = 1", "min = 99999999999999999999999"),
     r"expect #1.min: 99999999999999999999999 is out of a counter's range \(0 to 2\^64-1\)"),
    (lambda t: t.replace("min = 1", "max = -1"),
     r"expect #1.max: -1 is out of a counter's range"),
    (lambda t: t.replace("= 1\n[[work", "= true\n[[work"),
     r"settings: '/sys/kernel/debug/x' must be an absolute path .* a string or an integer"),
    (lambda t: t.replace("= 1\n[[work", '= "a b"\n[[work'),
     r"settings: '/sys/kernel/debug/x': the value 'a b' has white space"),
    (lambda t: t.replace('"2"]', '"2 3"]'), r"workload #1.args: '2 3' has white space"),
    (lambda t: t.replace('"swap_release"', '"swap_relase"'),
     r"fault/s.toml: workload #1: no program 'swap_relase' \(bench_munmap, "),
    (lambda t: 'timeout = true\n' + t, r"'timeout' must be a positive integer"),
    (lambda t: 'boot = ["mem=1G --"]\n' + t, r"boot: 'mem=1G --' is not one word"),
    (lambda t: t.replace('"fast"', '"fsat"'), r"variant: no uml-config/fsat.config"),
])
def test_bad_scenario(bed: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str],
                      edit: Callable[[str], str | bytes], message: str) -> None:
    _scenario(bed, monkeypatch, edit(SCENARIO))
    assert re.search(message, one_line_error(["fault", "--scenario", "s"], capsys))


def test_good_scenario_gets_to_the_fetch(bed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _scenario(bed, monkeypatch, SCENARIO)
    with pytest.raises(Reached):
        cli.main(["fault", "--scenario", "s"])


@pytest.mark.parametrize("argv", [["fault"], ["fault", "--list"], ["mutants"], ["coverage"],
                                  ["flaky"]])
@pytest.mark.parametrize("value, message", [
    ("0/3", "SHARD=0/3: i must be between 1 and N (3)"),
    ("4/3", "SHARD=4/3: i must be between 1 and N (3)"),
    ("abc", "SHARD=abc: must be i/N, shard i of N (e.g. SHARD=2/3)"),
])
def test_bad_shard(bed: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                   value: str, message: str) -> None:
    assert one_line_error([*argv, "--shard", value], capsys) == message


@pytest.mark.parametrize("argv, message", [
    (["mutants", "--repeat", "0"], "REPEAT=0: must be a whole number, at least 1"),
    (["uml-test", "--timeout", "-5"], "TIMEOUT=-5: must be a number of seconds above 0"),
    (["uml-test", "--timeout", "abc"], "TIMEOUT=abc: must be a number of seconds above 0"),
    (["qemu-test", "--timeout", "nan"], "TIMEOUT=nan: must be a number of seconds above 0"),
    (["mutation", "--sample", "abc"], "SAMPLE=abc: must be a whole number, at least 1"),
    (["mutation", "--seed", "-1"], "SEED=-1: must be a whole number, at least 0"),
    (["mutation", "--min-score", "101"], "MIN_SCORE=101: must be a percentage from 0 to 100"),
    (["flaky", "--n", "abc"], "N=abc: must be a whole number, at least 1"),
    (["bench", "--mib", "0"], "MIB=0: must be a whole number, at least 1"),
    (["bench", "--rounds", "x"], "ROUNDS=x: must be a whole number, at least 1"),
    (["uml-test", "--", "-k", "("], "K=(: not a pytest -k expression (at column 2: expected "
     "not OR left parenthesis OR identifier; got end of input)"),
    (["fault", "--target", "kvm"], "fault: TARGET: invalid choice: 'kvm' (choose from 'uml', "
     "'qemu')"),
])
def test_bad_option(bed: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                    message: str) -> None:
    """Make's variables, as the Makefile passes them: one line naming the
    variable and its rule, before any fetch (the fixture's tripwire)."""
    assert one_line_error(argv, capsys) == message


def test_good_keyword_gets_to_the_fetch(bed: Path) -> None:
    with pytest.raises(Reached):
        cli.main(["uml-test", "--timeout", "5", "--", "-k", "zram and not flags"])


def _series(bed: Path, files: dict[str, bytes]) -> str:
    d = bed / "series-dir"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    for name, data in files.items():
        (d / name).write_bytes(data)
    return str(d)


@pytest.mark.parametrize("files, message", [
    ({"series": b"a.patch\n", "a.patch": GOOD_PATCH.encode().replace(b"+b", b"+\xe9")},
     r"series-dir/a.patch:5: not UTF-8 \(byte 0xe9\)"),
    ({"series": b"\xff.patch\n"}, r"series-dir/series:1: not UTF-8 \(byte 0xff\)"),
    ({"series": b"a.patch -R\n", "a.patch": GOOD_PATCH.encode()},
     r"series-dir/series:1: unknown option '-R' \(only -pN\)"),
    ({"series": b"nope.patch\n"}, r"series-dir/series:1: nope.patch: No such file or directory"),
    ({"a.patch": b""}, r"SERIES=.*series-dir: directory has no 'series' file"),
])
def test_bad_series(bed: Path, capsys: pytest.CaptureFixture[str], files: dict[str, bytes],
                    message: str) -> None:
    series = _series(bed, files)
    assert re.search(message, one_line_error(["uml-test", "--series", series], capsys))


def test_bad_mbox(bed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mbox = bed / "s.mbox"
    mbox.write_bytes(b"From 1 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] a\n\n---\n"
                     + GOOD_PATCH.encode().replace(b"-a", b"-\xe4"))
    assert one_line_error(["build", "--series", str(mbox)], capsys).startswith(
        f"{mbox}:8: not UTF-8 (byte 0xe4)")
    mbox.write_text("From 1 Mon\nSubject: cover letter\n\nno diff\n")
    assert "no patches found in mbox" in one_line_error(["build", "--series", str(mbox)], capsys)


def test_bad_plan(bed: Path, monkeypatch: pytest.MonkeyPatch,
                  capsys: pytest.CaptureFixture[str]) -> None:
    plan = bed / "zsmalloc" / "plan.toml"
    plan.parent.mkdir()
    monkeypatch.setattr(preflight, "PLAN", plan)
    for body, message in [
        ('[[run]]\nname = "zram_swap"\ntimeout = true\n', "'timeout' must be a positive integer"),
        ('[sizes.default]\nmib = "3 2"\n[[run]]\nname = "zram_swap"\nargs = ["-m", "{mib}"]\n',
         "argument '3 2' has white space"),
        ('[[run]]\nname = "zram_swap"\nargs = ["{mib"]\n', "a brace that is not a {name}"),
        ('[[run]]\nname = "zram_swp"\n', "program 'zram_swp' is not in TEST_GEN_PROGS"),
    ]:
        plan.write_text(body)
        assert message in one_line_error(["uml-test"], capsys)


def test_bad_fragment(bed: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]) -> None:
    uml = bed / "uml-config"
    shutil.copytree(REPO / "uml-config", uml)
    monkeypatch.setattr(configure.paths, "UML_CONFIG", uml)
    fast = (uml / "fast.config").read_text()
    for text, message in [
        ('# zsbed-boot: mem=1G "x\n', "fast.config:1: zsbed-boot: '\"x' is not one word"),
        ("# zsbed-timeout-scale: nan\n", "fast.config:1: zsbed-timeout-scale must be a positive"),
        ("# zsbed-timeout-scale: inf\n", "fast.config:1: zsbed-timeout-scale must be a positive"),
        ("# caf\xe9\n", "fast.config:1: not UTF-8 (byte 0xe9)"),
        ("# zsbed-expect: zsmalloc.class_bits max -1\n",
         "fast.config:1: zsbed-expect: -1 is out of a counter's range (0 to 2^64-1)"),
    ]:
        (uml / "fast.config").write_bytes(text.encode("latin-1") + fast.encode())
        assert message in one_line_error(["build"], capsys)


def test_bad_mutants_and_sites(bed: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    m = bed / "mutants.toml"
    (bed / "m.patch").write_text(GOOD_PATCH)
    monkeypatch.setattr(mutants, "MUTANTS", m)
    good = ('[[mutant]]\nname = "m"\npatch = "m.patch"\nguards = "g"\nvariants = ["fast"]\n'
            'caught_by = ["dmesg.main"]\n')
    for text, message in [
        (good.replace('"m"', '"../m"'), "name '../m' must be letters, digits"),
        (good.replace('["fast"]', '["fats"]'), "variants: no uml-config/fats.config"),
        (good + 'scenario = "nope"\n', "scenario: no fault/nope.toml"),
        (good.replace('"g"', "true"), "'guards' must be a non-empty string"),
    ]:
        m.write_text(text)
        assert message in one_line_error(["mutants"], capsys)
    sites = bed / "sites.toml"
    sites.write_bytes(b"[[site]]\nname = \"\xff\"\n")
    monkeypatch.setattr(coverage, "SITES", sites)
    assert "sites.toml:2: not UTF-8 (byte 0xff)" in one_line_error(["coverage"], capsys)


def test_bad_ksrc(bed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spaced = bed / "linux 7.3"
    (spaced / "tools/testing/kunit").mkdir(parents=True)
    (spaced / "tools/testing/kunit/kunit_parser.py").write_text("")
    (spaced / "Makefile").write_text("VERSION = 7\nPATCHLEVEL = 3\nSUBLEVEL = 4\n")
    assert "has a space or a colon" in one_line_error(["build", "--ksrc", str(spaced)], capsys)
    assert "no such directory" in one_line_error(["build", "--ksrc", str(bed / "no")], capsys)


# -- the last line of defence ------------------------------------------------

def test_unexpected_exception_is_one_line_and_a_saved_traceback(
        bed: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def bug() -> list[str]:
        raise RuntimeError("a bug\nwith two lines")
    monkeypatch.setattr(configure, "variants", bug)
    assert cli.main(["variants"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("zsbed: internal error: RuntimeError: a bug with two lines "
                          "(traceback: ")
    log = Path(err.split("(traceback: ")[1].rstrip(")\n"))
    assert log.parent.parent == bed / "results" and log.name == "zsbed-error.log"
    text = log.read_text()
    assert text.startswith("zsbed variants\nTraceback") and "RuntimeError: a bug" in text


def test_traceback_goes_to_the_temporary_directory_when_results_cannot_be_written(
        bed: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (bed / "results").write_text("not a directory")
    monkeypatch.setattr(configure, "variants", lambda: 1 / 0)
    assert cli.main(["variants"]) == 3
    err = capsys.readouterr().err
    log = Path(err.split("(traceback: ")[1].rstrip(")\n"))
    assert "ZeroDivisionError" in log.read_text()
    log.unlink()


def test_a_full_disk_nobody_caught_is_still_one_line(
        bed: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def full() -> list[str]:
        raise OSError(errno.ENOSPC, "No space left on device", "build/x")
    monkeypatch.setattr(configure, "variants", full)
    assert cli.main(["variants"]) == 2
    assert capsys.readouterr().err == ("zsbed: error: build/x: the disk is full (No space left "
                                       "on device); free some space and run again\n")
