"""Options shared by the command families, and the request they make."""
from __future__ import annotations

import argparse

from zsbed.kernel.prepared import Request


def common(p: argparse.ArgumentParser) -> None:
    """VARIANT=, KSRC=, SERIES=: which kernel is built."""
    p.add_argument("--variant", default="fast", help="uml-config/<variant>.config")
    p.add_argument("--ksrc", default=None, help="your own 7.3.x tree (used read-only)")
    p.add_argument("--series", default=None, help="dir with a series file, an mbox, or 'none'")


def sharded(p: argparse.ArgumentParser) -> None:
    """SHARD=i/N."""
    p.add_argument("--shard", default=None, help="i/N: only shard i of N of the boots")


def request(args: argparse.Namespace) -> Request:
    """The kernel the command's options ask for."""
    return Request(variant=getattr(args, "variant", None), ksrc=getattr(args, "ksrc", None),
                   series=getattr(args, "series", None), target=getattr(args, "target", "uml"))
