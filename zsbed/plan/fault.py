"""Fault scenarios: force a rare path of the series, then prove it ran.

Each ``fault/<name>.toml`` names a build variant, UML boot arguments,
fault settings (written before the workload), workloads (selftest programs
with arguments), counters to read afterwards, and expectations on those
counters. One boot runs one scenario:

    fault_ctl set <settings...>  ->  workloads  ->  fault_ctl dump <counters...>

Counters come from ``# counter <path>[:<name>] <value>`` (fault_ctl dump
and the workloads) and ``# deferred <pool> <key> <value>...`` (workloads):
the queue counters are per pool, ``deferred.<pool>.<key>``, and a workload
may name the pool a role refers to (``# pool zswap-old zswap3``), so an
expectation says which pool it is about (``pool = "zram0"``, ``"zswap"``,
``"zswap-old"``). Every expectation becomes a test case
``fault.<scenario>.expect.<counter>.<op>``, decided by ``verdict``, so a
scenario whose fault did not fire fails, named. Invariants (data, leaks,
kernel reports) come from the workloads' own checks and the dmesg checker.

Scenario boots run no KUnit (``kunit.enable=0``): a suite that breaks
under a mutant must not keep the scenario from running, and KUnit's own
hits must not count for the scenario.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zsbed.core import paths, tomlfile
from zsbed.kernel import configure, target
from zsbed.core.cmdline import cmdline_problem
from zsbed.core.errors import ZsbedError
from zsbed.plan.program import Program, plan_problem, word_problem
from zsbed.verdict.verdict import OPS, Expect, bound_problem

FAULT_DIR = paths.REPO / "fault"
DEBUGFS = "/sys/kernel/debug/zsmalloc"
ATTR_KEYS = {"probability", "interval", "times", "space", "verbose", "task-filter"}
TOP_KEYS = {"purpose", "variant", "boot", "timeout", "faults", "settings", "workload",
            "counters", "expect"}
# Boot arguments of every scenario boot: no KUnit (see above).
SCENARIO_BOOT = ["kunit.enable=0"]


@dataclass(frozen=True)
class Workload:
    program: str
    args: tuple[str, ...]


@dataclass
class Scenario:
    name: str
    purpose: str
    variant: str
    boot: list[str]
    timeout: int
    settings: list[tuple[str, str]]          # (path, value), in order
    workloads: list[Workload]
    counters: list[str]                       # paths to dump
    expects: list[Expect] = field(default_factory=list)


def _fail(where: str, msg: str) -> ZsbedError:
    return ZsbedError(f"{where}: {msg}")


def _str_list(value: Any, where: str, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(where, f"'{key}' must be a list of strings")
    return list(value)


def _words(value: Any, where: str, key: str) -> list[str]:
    """A list of strings, each of which can pass through the plan as one argv word."""
    words = _str_list(value, where, key)
    for word in words:
        why = word_problem(word)
        if why:
            raise _fail(where, f"{key}: {word!r} {why}")
    return words


def _integer(value: Any) -> bool:
    """A TOML integer; a boolean is not one (Python counts True as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def load(path: Path) -> Scenario:
    """Parse one scenario file; errors name the file, the key and the reason."""
    where = paths.show(path)
    if not re.fullmatch(r"[A-Za-z0-9_-]+", path.stem):
        raise _fail(where, "a scenario's file name must be letters, digits, '_' and '-' "
                           "(it names its test cases)")
    data = tomlfile.read(path)
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise _fail(where, f"unknown key '{sorted(unknown)[0]}'")
    for key in ("purpose", "variant", "workload", "expect"):
        if key not in data:
            raise _fail(where, f"missing key '{key}'")
    if not isinstance(data["purpose"], str) or not isinstance(data["variant"], str):
        raise _fail(where, "'purpose' and 'variant' must be strings")
    if data["variant"] not in configure.variants():
        raise _fail(where, f"variant: no uml-config/{data['variant']}.config "
                           f"(variants: {', '.join(configure.variants())})")
    timeout = data.get("timeout", 120)
    if not _integer(timeout) or timeout <= 0:
        raise _fail(where, "'timeout' must be a positive integer")
    boot = _str_list(data.get("boot", []), where, "boot")
    for word in boot:
        if cmdline_problem(word):
            raise _fail(where, f"boot: {word!r} {cmdline_problem(word)}")
    settings: list[tuple[str, str]] = []
    counters: list[str] = [f"{DEBUGFS}/fault_stats", f"{DEBUGFS}/class_bits"]
    faults = data.get("faults", {})
    if not isinstance(faults, dict):
        raise _fail(where, "'faults' must be a table of fault points")
    for point, attrs in faults.items():
        if not re.fullmatch(r"[\w-]+", point):
            raise _fail(where, f"faults: {point!r} is not a fault point's name "
                               f"(a directory of {DEBUGFS})")
        if not isinstance(attrs, dict):
            raise _fail(where, f"faults.{point} must be a table")
        bad = set(attrs) - ATTR_KEYS
        if bad:
            raise _fail(where, f"faults.{point}: unknown attribute '{sorted(bad)[0]}' "
                               f"(known: {', '.join(sorted(ATTR_KEYS))})")
        for attr, value in attrs.items():
            if not _integer(value):
                raise _fail(where, f"faults.{point}.{attr} must be an integer")
            settings.append((f"{DEBUGFS}/{point}/{attr}", str(value)))
        counters.append(f"{DEBUGFS}/{point}/times")
    extra = data.get("settings", {})
    if not isinstance(extra, dict):
        raise _fail(where, "'settings' must be a table of path = value")
    for spath, value in extra.items():
        if (not spath.startswith("/") or "=" in spath or word_problem(spath)
                or not isinstance(value, (str, int)) or isinstance(value, bool)):
            raise _fail(where, f"settings: {spath!r} must be an absolute path (one word, "
                               f"no '=') = a string or an integer")
        if word_problem(str(value)):
            raise _fail(where, f"settings: {spath!r}: the value {str(value)!r} "
                               f"{word_problem(str(value))}")
        settings.append((spath, str(value)))
    counters += _words(data.get("counters", []), where, "counters")
    workloads = []
    if not isinstance(data["workload"], list) or not data["workload"]:
        raise _fail(where, "'workload' must be a non-empty array of tables")
    for index, w in enumerate(data["workload"], 1):
        w = tomlfile.table(f"{where}: workload #{index}", w, {"program"}, {"args"})
        tomlfile.text(f"{where}: workload #{index}", w, "program")
        workloads.append(Workload(w["program"], tuple(_words(w.get("args", []), where,
                                                             f"workload #{index}.args"))))
    expects = []
    if not isinstance(data["expect"], list) or not data["expect"]:
        raise _fail(where, "'expect' must be a non-empty array: a scenario must prove it fired")
    for index, e in enumerate(data["expect"], 1):
        if not isinstance(e, dict) or not isinstance(e.get("counter"), str):
            raise _fail(where, f"expect #{index}: missing key 'counter'")
        ops = [op for op in OPS if op in e]
        if len(ops) != 1 or set(e) - {"counter", "pool", *OPS}:
            raise _fail(where, f"expect #{index}: needs exactly one of min, max, eq")
        if not _integer(e[ops[0]]):
            raise _fail(where, f"expect #{index}.{ops[0]} must be an integer")
        if bound_problem(e[ops[0]]):
            raise _fail(where, f"expect #{index}.{ops[0]}: {bound_problem(e[ops[0]])}")
        pool = e.get("pool")
        per_pool = e["counter"].startswith("deferred.")
        if per_pool and not (isinstance(pool, str) and re.fullmatch(r"[\w-]+", pool)):
            raise _fail(where, f"expect #{index} ({e['counter']}): a queue counter is per "
                               f"pool: add pool = \"zram0\" (or zswap, zswap-old, ...)")
        if pool is not None and not per_pool:
            raise _fail(where, f"expect #{index} ({e['counter']}): 'pool' is only for "
                               f"deferred.* counters")
        expects.append(Expect(e["counter"], ops[0], e[ops[0]], pool))
    return Scenario(name=path.stem, purpose=data["purpose"], variant=data["variant"],
                    boot=boot, timeout=timeout,
                    settings=settings, workloads=workloads, counters=counters,
                    expects=expects)


def scenarios(only: str | None = None, target_name: str = "uml") -> list[Scenario]:
    """The scenarios in fault/ that run on ``target_name``, or just ``only``
    (which must run there)."""
    files = sorted(FAULT_DIR.glob("*.toml"))
    if only:
        files = [f for f in files if f.stem == only]
        if not files:
            raise ZsbedError(f"SCENARIO={only}: no fault/{only}.toml "
                             f"(scenarios: {', '.join(f.stem for f in sorted(FAULT_DIR.glob('*.toml')))})")
    loaded = [load(f) for f in files]
    if only and not runs_on(loaded[0], target_name):
        raise ZsbedError(f"SCENARIO={only}: runs on {loaded[0].variant}, an x86_64 guest; "
                         f"add TARGET=qemu")
    return [s for s in loaded if runs_on(s, target_name)]


def elsewhere(target_name: str) -> list[str]:
    """The scenarios that do not run on ``target_name`` (x86-only ones under UML)."""
    return [s.name for s in map(load, sorted(FAULT_DIR.glob("*.toml")))
            if not runs_on(s, target_name)]


def lookup_mode(s: Scenario) -> str | None:
    """'fallback' or 'classbits' if the scenario needs that lookup mode, else None.

    A scenario needs a mode when it runs on the classbits variant or
    expects ``zsmalloc.class_bits`` to be 0 (fallback) or more.
    """
    if "classbits" in s.variant:
        return "classbits"
    for e in s.expects:
        if e.counter == "zsmalloc.class_bits":
            return "fallback" if OPS[e.op](0, e.value) else "classbits"
    return None


def variant_for(s: Scenario, target_name: str = "uml") -> str:
    """The variant a scenario boots on a target: its own under UML; on the
    x86_64 guest the one with the lookup mode it needs (x86-fallback for
    the pool->lock lookup, else the native x86-fast)."""
    if target_name == "uml" or target.of(s.variant).name == target_name:
        return s.variant
    return "x86-fallback" if lookup_mode(s) == "fallback" else "x86-fast"


def runs_on(s: Scenario, target_name: str) -> bool:
    """An x86 scenario (its variant is an x86-* one, e.g. KCSAN's) needs
    the guest; every other scenario runs on both targets."""
    return target.of(s.variant).name == "uml" or target_name != "uml"


def programs(s: Scenario, progs: dict[str, Path], timeout_scale: float = 1.0) -> list[Program]:
    """The boot plan of a scenario (``timeout_scale``: a factor on the
    workloads' timeout, for slower machines)."""
    if "fault_ctl" not in progs:
        raise ZsbedError("selftests/zsmalloc: fault_ctl was not built")
    plan = []
    prefix = f"fault.{s.name}"
    if s.settings:
        plan.append(Program(f"{prefix}.arm", (str(progs["fault_ctl"]), "set",
                                              *(f"{p}={v}" for p, v in s.settings)), 30))
    for index, w in enumerate(s.workloads, 1):
        if w.program not in progs:
            raise ZsbedError(f"fault/{s.name}.toml: workload #{index}: no program "
                             f"'{w.program}' ({', '.join(sorted(progs))})")
        plan.append(Program(f"{prefix}.{index}.{w.program}", (str(progs[w.program]), *w.args),
                            max(1, int(s.timeout * timeout_scale))))
    plan.append(Program(f"{prefix}.counters", (str(progs["fault_ctl"]), "dump", *s.counters), 30))
    for prog in plan:
        if plan_problem(prog):
            raise ZsbedError(f"fault/{s.name}.toml: {prog.name}: {plan_problem(prog)}")
    return plan


COUNTER = re.compile(r"^# counter (\S+) (\d+)\s*$", re.M)
DEFERRED = re.compile(r"^# deferred (\S+) (.*)$", re.M)
POOL = re.compile(r"^# pool ([\w-]+) (\S+)\s*$", re.M)
# KUnit's zs_test_obj_encoding names the lookup mode zs_free() was built with
CLASS_BITS = re.compile(r"^(?:\[[^]]*\])?\s*# zs_test_obj_encoding: ZS_OBJ_CLASS_BITS=(\d+)",
                        re.M)          # [timestamp] on a PRINTK_TIME console (the x86_64 guest)


def deferred_queues(text: str) -> list[tuple[str, dict[str, int]]]:
    """(pool, counters) of each ``# deferred <pool> <key> <n> ...`` line in ``text``."""
    out = []
    for pool, rest in DEFERRED.findall(text):
        words = rest.split()
        out.append((pool, {k: int(v) for k, v in zip(words[::2], words[1::2])}))
    return out


def counters(texts: list[str]) -> dict[str, int]:
    """Counter name -> value from the KTAP outputs of a scenario's boot.

    ``…/fault_stats:<name>`` is also available as ``stats.<name>``,
    ``…/zsmalloc/<point>/times`` as ``<point>.times``, and the kernel's
    ZS_OBJ_CLASS_BITS (0: pool->lock fallback) as ``zsmalloc.class_bits``.
    The queue counters are per pool, ``deferred.<pool>.<key>``, the largest
    value any line showed for that pool (the counters only grow; for
    ``pending`` it is the most that was seen pending); a pool a program
    named by role (``# pool <role> <pool>``) is also ``deferred.<role>.<key>``.
    """
    values: dict[str, int] = {}

    def top(key: str, value: int) -> None:
        values[key] = max(values.get(key, value), value)

    for text in texts:
        for bits in CLASS_BITS.findall(text):
            values["zsmalloc.class_bits"] = int(bits)
        for path, value in COUNTER.findall(text):
            values[path] = int(value)
            if path == f"{DEBUGFS}/class_bits":
                values["zsmalloc.class_bits"] = int(value)
            m = re.match(rf"^{DEBUGFS}/fault_stats:(\S+)$", path)
            if m:
                values[f"stats.{m.group(1)}"] = int(value)
            m = re.match(rf"^{DEBUGFS}/([\w-]+)/times$", path)
            if m:
                values[f"{m.group(1)}.times"] = int(value)
        roles: dict[str, list[str]] = {}
        for role, pool in POOL.findall(text):
            roles.setdefault(pool, []).append(role)
        for pool, queue in deferred_queues(text):
            for name in [pool, *roles.get(pool, [])]:
                for key, value in queue.items():
                    top(f"deferred.{name}.{key}", value)
    return values
