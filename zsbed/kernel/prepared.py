"""What a boot needs, made from a request: fetch, patch, configure, build.

A command turns its options into a ``Request`` (a variant, a tree, a
series); ``prepare`` makes the ``Prepared`` kernel, init and selftests
for it, rebuilding only what changed.
"""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path

from zsbed.core import deps, paths
from zsbed.core.errors import ZsbedError
from zsbed.kernel import build, configure, fetch, patch, target


@dataclass(frozen=True)
class Request:
    """A kernel to prepare: ``variant`` (None: each fault scenario names its
    own, on ``target``), the user's tree (``ksrc``) and ``series``."""

    variant: str | None = "fast"
    ksrc: str | None = None
    series: str | None = None
    target: str = "uml"

    def at(self, variant: str | None) -> Request:
        """The same request in another variant."""
        return dataclasses.replace(self, variant=variant)


@dataclass(frozen=True)
class Prepared:
    """Everything a boot needs."""

    tree: fetch.Tree
    src: Path
    kernel: build.Kernel
    init: Path
    selftests: list[Path]
    digest: str = ""             # the patched source's content id


def build_dir(tree: fetch.Tree, variant: str) -> Path:
    """build/<variant>, or build/<variant>-<hash> for a user's KSRC tree."""
    if tree.managed:
        return paths.BUILD / variant
    return paths.BUILD / f"{variant}-{hashlib.sha256(str(tree.path).encode()).hexdigest()[:8]}"


def prepare(req: Request, extra: tuple[patch.Patch, ...] = ()) -> Prepared:
    """Fetch, patch, configure and build: everything up to the boot.

    The command has checked its other inputs (preflight) before this.
    """
    if req.variant is None:
        raise ZsbedError("no variant to build (a fault scenario names its own)")
    variant = req.variant
    frags = configure.fragments(variant)          # a bad VARIANT= fails before any work
    deps.ensure(qemu=target.of(variant).name == "qemu")
    tree = fetch.fetch(req.ksrc)
    configure.requested(tree.path, frags)         # fragments parse, before patching
    src, source_digest = patch.patch(tree, req.series, extra)
    bdir = build_dir(tree, variant)
    # An extra patch of C code only (a mutant) leaves the .config as it is:
    # configure keys on the tree without it, the build on the whole source.
    config_key = source_digest if patch.touches_build(extra) \
        else patch.content_id(tree, req.series)
    # the tree's location is part of its identity: kbuild output refers to it
    config_digest = configure.configure(src, f"{src}:{config_key}", variant, bdir,
                                        arch=target.of(variant).arch)
    make_vars = tuple(configure.variant_meta(variant).get("make", "").split())
    kernel = build.build_kernel(src, bdir, variant, f"{config_digest}:{source_digest}",
                                always=not tree.managed, make_vars=make_vars)
    return Prepared(tree=tree, src=src, kernel=kernel, init=build.build_guest(),
                    selftests=build.build_selftests(src), digest=source_digest)
