"""Reading zsbed's input files as text: UTF-8, or one line saying where not.

Patches, series files, mboxes, Kconfig fragments and zsbed's TOML files
are all read here, so an input that is not UTF-8 (or cannot be opened)
ends in one line naming the file, the line and the byte.
"""
from __future__ import annotations

from pathlib import Path

from zsbed.core import paths
from zsbed.core.errors import ZsbedError


def decode(data: bytes, where: str, first_line: int = 1) -> str:
    """``data`` as UTF-8; otherwise one line: ``where:line: not UTF-8 (byte 0x..)``."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + data.count(b"\n", 0, exc.start)
        raise ZsbedError(f"{where}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x}); "
                         f"zsbed reads its inputs as UTF-8") from None


def read_text(path: Path, where: str | None = None) -> str:
    """The text of ``path``; one-line errors name ``where`` (default: the path)
    when it cannot be opened, and the file and line when it is not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ZsbedError(f"{where or paths.show(path)}: {exc.strerror or exc}") from None
    except ValueError:              # a NUL byte in the name
        raise ZsbedError(f"{where or paths.show(path)}: not a valid file name") from None
    return decode(data, paths.show(path))
