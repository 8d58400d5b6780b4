"""What a variant's kernel runs on: UML, or an x86_64 guest under QEMU.

A target is data: kbuild's ARCH, the image make builds and where it lands,
and where the target's Kconfig fragments live. Every stage that differs
between the two asks the variant's target (``of``); the stages themselves
(fetch, patch, configure, build, run, parse, report) are shared.

- ``uml``: ``uml-config/<variant>.config`` on top of ``uml-config/base.config``.
- ``qemu``: ``uml-config/x86_64/x86-<name>.config`` on top of
  ``uml-config/base.config`` (its test options; not the options its
  ``# zsbed-uml-only:`` line names) and ``uml-config/x86_64/base.config``
  (what a bootable guest needs).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zsbed.core import paths


@dataclass(frozen=True)
class Target:
    """A kind of machine a variant's kernel boots on."""

    name: str              # uml | qemu
    arch: str              # kbuild's ARCH
    make_target: str       # what make builds
    image: str             # the bootable image, relative to the build dir
    config_sub: str        # where the variants' fragments are, under uml-config/
    prefix: str            # a variant name's prefix ("" for UML)

    @property
    def config_dir(self) -> Path:
        return paths.UML_CONFIG / self.config_sub

    def fragment(self, variant: str) -> Path:
        return self.config_dir / f"{variant}.config"

    def bases(self) -> list[Path]:
        """The fragments every variant of this target starts from."""
        base = paths.UML_CONFIG / "base.config"
        return [base] if self.name == "uml" else [base, self.config_dir / "base.config"]


UML = Target("uml", "um", "linux", "linux", "", "")
QEMU = Target("qemu", "x86_64", "bzImage", "arch/x86/boot/bzImage", "x86_64", "x86-")
TARGETS = (UML, QEMU)


def of(variant: str) -> Target:
    """The target of a variant: x86-* variants boot under QEMU."""
    return QEMU if variant.startswith(QEMU.prefix) else UML


def by_name(name: str) -> Target:
    """TARGET=uml|qemu."""
    for t in TARGETS:
        if t.name == name:
            return t
    raise ValueError(name)
