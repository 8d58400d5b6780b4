"""A set of kernels built side by side from one tree, for the commands that
compare them (make bench: fallback, classbits, deferred; make peer: base,
series): the series under test without zsbed's own patches, and each
kernel patched, configured and built in build/<its variant>."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zsbed.core import paths
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say
from zsbed.kernel import configure
from zsbed.kernel.build import Kernel, build_kernel
from zsbed.kernel.fetch import Tree
from zsbed.kernel.patch import Patch, parse_series, patch_tree, select_patches


@dataclass(frozen=True)
class Member:
    """One kernel of the set."""

    name: str                  # what the command calls it ("deferred", "base")
    variant: str               # its build directory and patched tree
    patches: list[Patch]
    fragments: list[Path]
    arch: str = "um"


def series_alone(series: str | None, command: str, same: str) -> list[Patch]:
    """The series under test (SERIES= or patches/series) without zsbed's
    instrumentation; one line if that leaves nothing (the kernel with it
    would be the ``same`` one)."""
    _, instrumentation = parse_series(paths.PATCHES / "series")
    under_test = [p for p in select_patches(series) if p not in instrumentation]
    if not under_test:
        raise ZsbedError(f"{command}: SERIES= has no patches: {same}")
    return under_test


def build(tree: Tree, members: list[Member], command: str) -> dict[str, tuple[Path, Kernel]]:
    """Patch, configure and build each member; name -> (patched tree, kernel)."""
    built = {}
    for m in members:
        say(f"[{command}] kernel {m.name}: {len(m.patches)} patches")
        src, digest = patch_tree(tree, m.patches, m.variant)
        bdir = paths.BUILD / m.variant
        cdigest = configure.configure(src, f"{src}:{digest}", m.variant, bdir, m.fragments,
                                      arch=m.arch)
        built[m.name] = (src, build_kernel(src, bdir, m.variant, cdigest,
                                           always=not tree.managed))
    return built
