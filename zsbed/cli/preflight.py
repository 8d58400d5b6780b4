"""Every input a command uses, checked before anything is fetched or built.

Each input keeps its loader in the module that owns its format (patch:
series files, mboxes and patches; configure: fragments and their
``# zsbed-`` lines; plan, fault, mutants, coverage, verdict: their TOML;
fetch: KSRC). This module only knows which inputs a command uses, and
loads them all up front, so that a bad one ends in one line naming the
file, the key or line, and the problem, before the first build, and
before a kernel tree is downloaded. Workload and plan programs are
checked against the programs the selftests Makefile will build, and
every argv word against what the guest's plan can carry. ``SHARD=i/N``
is checked here too (the commands that split their boots read it first,
so that ``LIST=1`` shows a shard's list).
"""
from __future__ import annotations

import argparse
import re
from typing import Iterable

from zsbed.core import paths
from zsbed.kernel import build, configure, target
from zsbed.machine import boot, umlmem
from zsbed.plan import fault, plan
from zsbed.results import shard
from zsbed.core.errors import ZsbedError
from zsbed.kernel.fetch import pin, user_tree
from zsbed.kernel.patch import Patch, select_patches
from zsbed.verdict.verdict import SkipList

PLAN = paths.SELFTESTS / "zsmalloc" / "plan.toml"


def checkout() -> None:
    """kbuild cannot build in (and the plan cannot name) a path with a space or colon."""
    if re.search(r"[\s:]", str(paths.REPO)):
        raise ZsbedError(f"{paths.REPO}: the checkout's path has a space or a colon, which "
                         f"kbuild cannot build in; clone zsbed elsewhere")


def check(args: argparse.Namespace, variants: Iterable[str] = (),
          scenarios: Iterable[fault.Scenario] = (), plan_variants: Iterable[str] = (),
          patches: bool = True, uml_mem: int = 0) -> list[Patch]:
    """Load every input of a run; return the patches it will apply.

    ``variants``: the variants it builds; ``scenarios``: the scenarios it
    boots (each in ``args.variant`` or its own variant); ``plan_variants``:
    the variants it boots the selftest plan in; ``uml_mem``: the memory its
    UML boots need, for a command that names no variant (bench, peer).
    """
    checkout()
    shard.parse(getattr(args, "shard", None))
    if args.ksrc:
        user_tree(args.ksrc)
    else:
        pin()                                # patches/kernel.toml
    chosen = set(variants)
    progs = build.selftest_programs()
    for s in scenarios:
        chosen.add(getattr(args, "variant", None)
                   or fault.variant_for(s, getattr(args, "target", None) or "uml"))
        fault.programs(s, progs)
    chosen |= set(plan_variants)
    metas = {v: configure.variant_meta(v) for v in sorted(chosen)}
    if uml_mem or any(target.of(v).name == "uml" for v in metas):
        # UML's memory needs an exec-capable directory with room
        umlmem.choose(max(uml_mem, boot.MEM_BYTES))
    SkipList.load(variants=configure.variants())
    for v in plan_variants:
        plan.load(PLAN, v, progs, float(metas[v].get("timeout-scale", 1)))
    return select_patches(args.series) if patches else []
