"""Stage 1, fetch: get a pristine Linux 7.3.x tree, or validate the user's.

The default source is Debian's ``linux-source-7.3`` package from the
trixie-backports suite. It is fetched with a private apt configuration
(its own sources file, lists and cache under ``work/apt``) so the host's apt
state is never touched. The mirror is taken from the host's own apt sources
at run time. The extracted tree is cached; a second run does no network I/O.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from zsbed import disk, paths
from zsbed.errors import ZsbedError
from zsbed.progress import say, step

PACKAGE = "linux-source-7.3"
SUITE = "trixie-backports"
WANT_SERIES = (7, 3)
DEFAULT_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
HOST_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
MARKER = ".zsbed-source.json"


@dataclass(frozen=True)
class Tree:
    """A kernel source tree and how it was obtained."""

    path: Path
    version: str          # "7.3.4"
    origin: str           # "linux-source-7.3 7.3.4-1~bpo13+1" or "KSRC=<path>"
    managed: bool         # True when zsbed owns it (cached pristine tree)

    @property
    def kernel(self) -> str:
        """The string every result records as its kernel."""
        return f"{self.version} ({self.origin})"


def makefile_version(tree: Path) -> str:
    """Return VERSION.PATCHLEVEL.SUBLEVEL from a tree's top Makefile."""
    makefile = tree / "Makefile"
    try:
        text = makefile.read_text(errors="replace")[:4096]
    except OSError as exc:
        raise ZsbedError(f"{makefile}: not a kernel tree ({exc.strerror})") from exc
    fields = {}
    for key in ("VERSION", "PATCHLEVEL", "SUBLEVEL"):
        m = re.search(rf"^{key}\s*=\s*(\d+)\s*$", text, re.M)
        if not m:
            raise ZsbedError(f"{makefile}: no {key} line; not a kernel tree")
        fields[key] = m.group(1)
    return "{VERSION}.{PATCHLEVEL}.{SUBLEVEL}".format(**fields)


def check_series(version: str, where: str) -> None:
    """Refuse trees that are not 7.3.x: the series targets 7.3."""
    major, minor = (int(x) for x in version.split(".")[:2])
    if (major, minor) != WANT_SERIES:
        raise ZsbedError(f"{where}: Linux {version}; zsbed needs 7.3.x")


def user_tree(ksrc: str) -> Tree:
    """Validate a KSRC= tree; it is used read-only."""
    if not ksrc.strip() or "\0" in ksrc:
        raise ZsbedError(f"KSRC={ksrc!r}: not a directory name")
    path = Path(ksrc).expanduser().resolve()
    if not path.is_dir():
        raise ZsbedError(f"KSRC={ksrc}: no such directory")
    if re.search(r"[\s:]", str(path)):
        # kbuild refuses such a tree ("source directory cannot contain spaces or colons")
        raise ZsbedError(f"KSRC={ksrc}: the path has a space or a colon, which kbuild "
                         f"cannot build from")
    version = makefile_version(path)
    check_series(version, f"KSRC={ksrc}")
    if not (path / "tools/testing/kunit/kunit_parser.py").is_file():
        raise ZsbedError(f"KSRC={ksrc}: tools/testing/kunit/kunit_parser.py missing")
    return Tree(path=path, version=version, origin=f"KSRC={path}", managed=False)


def _deb822_entries(text: str) -> list[dict[str, str]]:
    entries = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith("#") or ":" not in line or line[0].isspace():
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if fields:
            entries.append(fields)
    return entries


def host_mirror(sources: tuple[Path, ...] = HOST_SOURCES) -> tuple[str, str]:
    """Return (mirror URI, keyring) of the host's main Debian archive.

    Reads both one-line (``sources.list``) and deb822 (``*.sources``) files
    and picks the first ``deb`` entry whose URI ends in ``/debian``.
    """
    files: list[Path] = []
    for src in sources:
        if src.is_dir():
            files += sorted(src.glob("*.sources")) + sorted(src.glob("*.list"))
        elif src.is_file():
            files.append(src)
    for file in files:
        text = file.read_text(errors="replace")
        if file.suffix == ".sources":
            for entry in _deb822_entries(text):
                if "deb" not in entry.get("types", "").split():
                    continue
                for uri in entry.get("uris", "").split():
                    if uri.rstrip("/").endswith("/debian"):
                        return uri.rstrip("/"), entry.get("signed-by", DEFAULT_KEYRING)
        else:
            for line in text.splitlines():
                m = re.match(r"\s*deb\s+(\[[^]]*\]\s+)?(\S+)", line)
                if m and m.group(2).rstrip("/").endswith("/debian"):
                    return m.group(2).rstrip("/"), DEFAULT_KEYRING
    raise ZsbedError("/etc/apt: no Debian archive ('.../debian') in the host's apt sources")


def _run(cmd: list[str], what: str, cwd: Path | None = None,
         disk_path: Path | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        if disk_path:
            disk.check_full(proc.stdout + proc.stderr, disk_path)
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ZsbedError(f"fetch: {what} failed: {last}")
    return proc.stdout


def _apt_options(apt_dir: Path) -> list[str]:
    return [
        "-o", f"Dir::Etc::SourceList={apt_dir / 'zsbed.sources'}",
        "-o", "Dir::Etc::SourceParts=/dev/null",
        "-o", f"Dir::State::Lists={apt_dir / 'lists'}",
        "-o", f"Dir::Cache={apt_dir / 'cache'}",
        "-o", "Dir::State::status=/dev/null",
        "-o", "Debug::NoLocking=1",
    ]


def download_deb(apt_dir: Path) -> Path:
    """Download the newest linux-source-7.3 .deb with a private apt setup.

    It is downloaded into a scratch directory and moved next to it when
    complete, so a download cut short never looks like a cached .deb.
    """
    uri, keyring = host_mirror()
    scratch = apt_dir / "download.tmp"
    with disk.writing(apt_dir):
        shutil.rmtree(scratch, ignore_errors=True)
        for d in (apt_dir / "lists/partial", apt_dir / "cache/archives/partial", scratch):
            d.mkdir(parents=True, exist_ok=True)
        disk.write_text(apt_dir / "zsbed.sources",
                        f"Types: deb\nURIs: {uri}\nSuites: {SUITE}\nComponents: main\n"
                        f"Signed-By: {keyring}\n")
    opts = _apt_options(apt_dir)
    _run(["apt-get", *opts, "update"], f"apt-get update of {SUITE}", disk_path=apt_dir)
    _run(["apt-get", *opts, "download", PACKAGE], f"apt-get download {PACKAGE}", cwd=scratch,
         disk_path=apt_dir)
    debs = sorted(scratch.glob(f"{PACKAGE}_*.deb"))
    if not debs:
        raise ZsbedError(f"fetch: apt-get download {PACKAGE} produced no .deb")
    deb = apt_dir / debs[-1].name
    with disk.writing(deb):
        os.replace(debs[-1], deb)
        shutil.rmtree(scratch, ignore_errors=True)
    return deb


class ExtractError(ZsbedError):
    """The .deb did not unpack (not a full disk): it is damaged."""


def extract(deb: Path, dest: Path) -> None:
    """Unpack the tarball inside the .deb into ``dest`` (streamed, no temp tarball).

    It is unpacked into ``dest.tmp`` and renamed: an extraction cut short
    (Ctrl-C, a full disk) is removed, and never taken for a tree.
    """
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    member = f"./usr/src/{PACKAGE}.tar.xz"
    pipeline = (f"dpkg-deb --fsys-tarfile '{deb}' | tar -xO '{member}' | "
                f"tar -xJ -C '{tmp}' --strip-components=1")
    try:
        with disk.writing(tmp):
            tmp.mkdir(parents=True)
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", pipeline],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            disk.check_full(proc.stderr, tmp)
            last = (proc.stderr.strip().splitlines() or ["?"])[-1]
            raise ExtractError(f"{paths.show(deb)}: extraction failed: {last[-200:]}")
        with disk.writing(dest):
            shutil.rmtree(dest, ignore_errors=True)
            tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def debian_tree() -> Tree:
    """Return the cached pristine tree, fetching it on first use."""
    dest = paths.WORK / "linux-7.3"
    marker = dest / MARKER
    info = disk.read_state(marker, "fetch", ("version", "origin"))
    if info:
        return Tree(path=dest, version=info["version"], origin=info["origin"], managed=True)
    cached = sorted((paths.WORK / "apt").glob(f"{PACKAGE}_*.deb"))
    if cached:
        # kept from an earlier fetch, or restored by CI's cache
        say(f"[fetch] using {paths.show(cached[-1])} (delete it to download again)")
        try:
            return unpack(cached[-1], dest)
        except ExtractError as exc:
            say(f"[fetch] {exc}: removing it and downloading it again")
            cached[-1].unlink(missing_ok=True)
    with step("fetch", f"{PACKAGE} from {SUITE} (private apt config, host apt untouched)"):
        deb = download_deb(paths.WORK / "apt")
    return unpack(deb, dest)


def unpack(deb: Path, dest: Path) -> Tree:
    """Extract ``deb`` into ``dest``; the marker, written last, says it is complete."""
    proc = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout.strip():
        last = (proc.stderr.strip().splitlines() or ["no Version field"])[-1]
        raise ExtractError(f"{paths.show(deb)}: not a readable .deb: {last}")
    deb_version = proc.stdout.strip()
    say(f"[fetch] extracting {deb.name}")
    # no marker until the new tree is in place: a run cut short extracts again
    with disk.writing(dest):
        (dest / MARKER).unlink(missing_ok=True)
    extract(deb, dest)
    version = makefile_version(dest)
    check_series(version, str(deb.name))
    origin = f"{PACKAGE} {deb_version}"
    disk.write_json(dest / MARKER, {"version": version, "origin": origin})
    say(f"[fetch] Linux {version} ({origin})")
    return Tree(path=dest, version=version, origin=origin, managed=True)


def fetch(ksrc: str | None) -> Tree:
    """Stage entry point: the tree every later stage works from."""
    if ksrc:
        return user_tree(ksrc)
    return debian_tree()
