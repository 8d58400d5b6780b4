"""Property-based tests (Debian's python3-hypothesis): whatever the input,
the scenario loader, the series parser, the mbox splitter, the KTAP-to-cases
mapping and the dmesg checker raise nothing but a one-line ZsbedError.

The number of examples per test is small (conftest.py's profile) so that
``make unit`` stays fast; ZSBED_FUZZ_EXAMPLES=5000 make unit K=fuzz runs a
longer campaign.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from zsbed.kernel import patch
from zsbed.plan import dmesg, fault, program, run
from zsbed.verdict import boot as boot_verdict
from zsbed.machine.boot import Boot
from zsbed.core.errors import ZsbedError
from zsbed.plan.parse import OUTCOMES, parse_ktap

REPO = Path(__file__).resolve().parent.parent
PROGS = {n: Path(f"/b/{n}") for n in ("fault_ctl", "swap_release", "zram_swap")}
# function-scoped fixtures (tmp_path) are reused across examples: each
# example writes its own files first, so that is what is wanted
REUSE = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def one_line(err: ZsbedError) -> None:
    assert str(err) and "\n" not in str(err) and "\r" not in str(err)


# -- a small TOML writer, for generated documents -----------------------------

def toml_value(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, float):
        return repr(v) if v == v and abs(v) != float("inf") else "nan"
    return json.dumps(v)          # str, int, bool: the same in TOML


def toml_doc(doc: dict[str, Any]) -> str:
    """Top-level keys first (after a [[table]] they would belong to it)."""
    keys, tables = [], []
    for key, value in doc.items():
        if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            for table in value:
                tables.append(f"[[{json.dumps(key)}]]")
                tables += [f"{json.dumps(k)} = {toml_value(x)}" for k, x in table.items()]
        else:
            keys.append(f"{json.dumps(key)} = {toml_value(value)}")
    return "\n".join(keys + tables) + "\n"


WORDS = st.sampled_from(["swap_release", "fault_ctl", "zram_swap", "nope", "-n", "2", "",
                         "a b", "x\ty", "/sys/kernel/debug/zsmalloc/x", "deferred.pending",
                         "stats.fail_deferred_trylock", "zram0", "fast", "deep", "--",
                         "\"q\"", "x=y", "p", "{mib}", "\u00e9"])
SCALARS = (st.integers(min_value=-2**63, max_value=2**63 - 1) | st.booleans() | WORDS
           | st.text(max_size=8) | st.floats(allow_nan=False, allow_infinity=False))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(WORDS | st.text(min_size=1, max_size=5), inner,
                                        max_size=3), max_leaves=8)
REAL_SCENARIOS = sorted((REPO / "fault").glob("*.toml"))


@st.composite
def scenario_docs(draw: st.DrawFn) -> dict[str, Any]:
    """A real scenario with some keys dropped, added or replaced by other values."""
    import tomllib

    doc = tomllib.loads(draw(st.sampled_from(REAL_SCENARIOS)).read_text())
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(sorted(fault.TOP_KEYS) + ["other"]))
        action = draw(st.sampled_from(["drop", "replace", "deep"]))
        if action == "drop":
            doc.pop(key, None)
        elif action == "replace" or not isinstance(doc.get(key), (dict, list)) or not doc[key]:
            doc[key] = draw(VALUES)
        elif isinstance(doc[key], dict):
            inner = draw(st.sampled_from(sorted(doc[key])))
            doc[key][inner] = draw(VALUES)
        else:
            index = draw(st.integers(0, len(doc[key]) - 1))
            item = doc[key][index]
            if isinstance(item, dict) and item:
                item[draw(st.sampled_from(sorted(item) + ["args", "min", "pool"]))] = draw(VALUES)
            else:
                doc[key][index] = draw(VALUES)
    return doc


@REUSE
@given(doc=scenario_docs())
def test_scenario_loader_on_edited_scenarios(tmp_path: Path, doc: dict[str, Any]) -> None:
    f = tmp_path / "s.toml"
    f.write_text(toml_doc(doc))
    check_scenario(f)


@REUSE
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_scenario_loader_on_any_bytes(tmp_path: Path, data: bytes) -> None:
    f = tmp_path / "s.toml"
    f.write_bytes(data)
    check_scenario(f)


def check_scenario(f: Path) -> None:
    """It loads, and its plan can be written as it is; or it fails in one line."""
    try:
        plan = fault.programs(fault.load(f), PROGS)
    except ZsbedError as err:
        one_line(err)
        return
    program.write_plan(f.with_name("plan"), plan)          # a loaded scenario always fits


# -- the series parser and the mbox splitter -----------------------------------

LINES = st.sampled_from(["a.patch", "b.patch -p0", "a.patch -p1 # c", "# --- zsbed", "nope.patch",
                         "a.patch -R", "# comment", "", "   ", "sub/../a.patch", "a.patch\x00",
                         "\u00e9.patch", "b.patch -p", "dir"]) | st.text(max_size=12)
PATCH_BYTES = st.sampled_from([b"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", b"", b"\xff\xfe",
                               b"caf\xe9\n"]) | st.binary(max_size=40)


@REUSE
@given(lines=st.lists(LINES, max_size=6), a=PATCH_BYTES, b=PATCH_BYTES,
       raw=st.none() | st.binary(max_size=60))
def test_series_parser(tmp_path: Path, lines: list[str], a: bytes, b: bytes,
                       raw: bytes | None) -> None:
    shutil.rmtree(tmp_path / "s", ignore_errors=True)
    (tmp_path / "s" / "dir").mkdir(parents=True)
    (tmp_path / "s" / "a.patch").write_bytes(a)
    (tmp_path / "s" / "b.patch").write_bytes(b)
    series = tmp_path / "s" / "series"
    series.write_bytes(raw if raw is not None else "\n".join(lines).encode())
    try:
        ours, theirs = patch.parse_series(series)
    except ZsbedError as err:
        one_line(err)
        return
    assert all(p.strip >= 0 and isinstance(p.text, str) for p in ours + theirs)


MBOX_PARTS = st.sampled_from([
    b"From 1234 Mon Sep 17 00:00:00 2001\n", b"From x\n", b"Subject: [PATCH 1/2] a\n",
    b"Subject: \xe9t\xe9\n", b"\n---\n", b"diff --git a/x b/x\n", b"--- a/x\n+++ b/x\n",
    b"@@ -1 +1 @@\n-a\n+b\n", b"caf\xe9\n", b"\xff", b"From: A <a@b>\n", b"\r\n"]) | st.binary(max_size=20)


@REUSE
@given(parts=st.lists(MBOX_PARTS, max_size=12))
def test_mbox_splitter(tmp_path: Path, parts: list[bytes]) -> None:
    mbox = tmp_path / "s.mbox"
    mbox.write_bytes(b"".join(parts))
    try:
        patches = patch.split_mbox(mbox)
    except ZsbedError as err:
        one_line(err)
        return
    assert patches and all(re.search(r"(?m)^(diff --git |--- )", p.text) for p in patches)


# -- KTAP to cases, and the dmesg checker -------------------------------------

KTAP_LINES = st.sampled_from([
    "KTAP version 1", "TAP version 13", "1..2", "1..0 # SKIP no", "ok 1 a", "not ok 2 b",
    "ok 3 # SKIP why", "    KTAP version 1", "    # Subtest: s", "    1..1", "    ok 1 c",
    "    not ok 1 c # SKIP x", "# counter /x 3", "Bail out!", "ok", "not ok", "ok 99999999999999 x",
    "ok -1 x", "1..-3", "1..99999999999", "# TODO", "[    1.0] ok 1 x", "\x00", "ok 1 a # TODO"
]) | st.text(max_size=20)


@given(lines=st.lists(KTAP_LINES, max_size=14))
def test_ktap_to_cases(ktree: Path, lines: list[str]) -> None:
    for c in parse_ktap(ktree, lines, "st"):
        assert c.outcome in OUTCOMES and c.name.startswith("st")


STATUS = st.sampled_from(["st.a 0 15", "st.b 4 2", "st.a timeout 9", "st.a 1 x", "st.a 0 -1",
                          "done", "st.a", "st.b 0 99999999999999999999", "st.a 0 \u00b2"]
                         ) | st.text(max_size=12)


@REUSE
@given(status=st.lists(STATUS, max_size=4) | st.binary(max_size=30),
       ktap=st.lists(KTAP_LINES, max_size=8))
def test_program_cases(ktree: Path, tmp_path: Path, status: list[str] | bytes,
                       ktap: list[str]) -> None:
    out = tmp_path / "ktap"
    out.mkdir(exist_ok=True)
    (out / "status").write_bytes(status if isinstance(status, bytes) else
                                 "\n".join(status).encode())
    (out / "st.a.ktap").write_text("\n".join(ktap))
    b = Boot(name="main", console=tmp_path / "console.log", outdir=out)
    progs = [program.Program("st.a", ("/x/a",)), program.Program("st.b", ("/x/b",))]
    for c in run.program_cases(ktree, b, progs):
        assert c.outcome in OUTCOMES


CONSOLE = st.sampled_from([
    "BUG: KASAN: use-after-free in zs_free", "WARNING: suspicious RCU usage",
    "smp: Bringing up secondary CPUs ...", "Callback enqueued on offline CPU",
    "rcu: INFO: rcu_sched self-detected stall on CPU", "Kernel panic - not syncing: x",
    "------------[ cut here ]------------", "BUG zs_handle (Not tainted): Object already free",
    "Class-1 fullness group 2 is not empty", "unreferenced object 0x1", "\x00", "\r", "\u2028",
]) | st.text(max_size=30)


@REUSE
@given(lines=st.lists(CONSOLE, max_size=16))
def test_dmesg_checker(tmp_path: Path, lines: list[str]) -> None:
    text = "\n".join(lines)
    findings = dmesg.check(text)
    assert all(1 <= f.lineno <= len(text.splitlines()) for f in findings)
    log = tmp_path / "c.log"
    log.write_text(text, errors="surrogateescape")
    b = Boot(name="main", console=log, outdir=tmp_path, exit_code=0)
    assert boot_verdict.dmesg_case(b, findings).outcome in OUTCOMES
    assert boot_verdict.boot_case(b, findings).outcome in OUTCOMES


@pytest.mark.parametrize("word", ["a b", "", "x\ty", "a\nb", "\x00"])
def test_write_plan_refuses_what_init_would_split(tmp_path: Path, word: str) -> None:
    with pytest.raises(ZsbedError, match="plan"):
        program.write_plan(tmp_path / "plan", [program.Program("st.a", ("/x/a", word))])
