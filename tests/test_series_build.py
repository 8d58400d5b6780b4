"""series-build's choice of x86_64 objects."""
from __future__ import annotations

from zsbed.kernel.patch import Patch
from zsbed.kernel.series_build import OBJECTS, objects_touched


def _patch(*files: str) -> Patch:
    text = "".join(f"--- a/{f}\n+++ b/{f}\n@@ -1 +1 @@\n-a\n+b\n" for f in files)
    return Patch(name="p.patch", text=text)


def test_only_the_objects_the_series_touches() -> None:
    patches = [_patch("mm/zsmalloc.c", "include/linux/zsmalloc.h"),
               _patch("drivers/block/zram/zram_drv.c")]
    assert objects_touched(patches) == ["drivers/block/zram/zram_drv.o", "mm/zsmalloc.o"]


def test_a_series_touching_none_of_them_compiles_all() -> None:
    assert objects_touched([_patch("Documentation/mm/zsmalloc.rst")]) == list(OBJECTS.values())
