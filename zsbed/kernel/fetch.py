"""Stage 1, fetch: get a pristine Linux 7.3.x tree, or validate the user's.

The default source is Debian's ``linux-source-7.3`` package, pinned by
version and sha256 in ``patches/kernel.toml``. It is fetched from its suite
(trixie-backports) with a private apt configuration (its own sources file,
lists and cache under ``work/apt``) so the host's apt state is never
touched; the mirror is taken from the host's own apt sources at run time.
When the archive no longer carries the pinned version, the same file comes
from the Debian snapshot archive (``ZSBED_SNAPSHOT``, else the snapshot
entry of the host's apt sources: no address is written into zsbed),
by exact version. Every .deb is checked against the pinned sum before it is
used. The extracted tree is cached; a second run does no network I/O.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from zsbed.core import disk, paths, tomlfile
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say, step

PIN_FILE = paths.PATCHES / "kernel.toml"
PACKAGE = "linux-source-7.3"        # what the pin may name: a 7.3.x source package
WANT_SERIES = (7, 3)
DEFAULT_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
HOST_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
MARKER = ".zsbed-source.json"


@dataclass(frozen=True)
class Pin:
    """The source package zsbed builds (``patches/kernel.toml``)."""

    package: str
    suite: str
    version: str          # Debian's version: "7.3.4-1~bpo13+1"
    sha256: str

    @property
    def deb(self) -> str:
        """The file name apt gives it (an epoch's ':' as %3a)."""
        return f"{self.package}_{self.version.replace(':', '%3a')}_all.deb"

    @property
    def origin(self) -> str:
        return f"{self.package} {self.version}"


def pin(path: Path | None = None) -> Pin:
    """The pinned package; one line naming the file and key when it is wrong."""
    path = path or PIN_FILE
    data = tomlfile.read(path)
    fields = {}
    for key, rule in (("package", r"linux-source-7\.3"), ("suite", r"[\w.-]+"),
                      ("version", r"[\w.+~:-]+"), ("sha256", r"[0-9a-f]{64}")):
        value = data.get(key)
        if not isinstance(value, str) or not re.fullmatch(rule, value):
            raise ZsbedError(f"{paths.show(path)}: '{key}' must be a string matching {rule}, "
                             f"not {value!r}")
        fields[key] = value
    extra = sorted(set(data) - set(fields))
    if extra:
        raise ZsbedError(f"{paths.show(path)}: unknown key '{extra[0]}'")
    return Pin(**fields)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sum(deb: Path, want: Pin) -> None:
    """The .deb is the pinned file; otherwise it is removed and one line names both sums."""
    got = sha256(deb)
    if got != want.sha256:
        deb.unlink(missing_ok=True)
        raise ZsbedError(f"{deb.name}: sha256 {got}, but {paths.show(PIN_FILE)} pins "
                         f"{want.sha256}; the file was removed")


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


def _deb_sources(sources: tuple[Path, ...]) -> list[tuple[str, str]]:
    """(URI, keyring) of every ``deb`` entry in the host's apt sources, in
    order: one-line (``sources.list``) and deb822 (``*.sources``) files."""
    files: list[Path] = []
    for src in sources:
        if src.is_dir():
            files += sorted(src.glob("*.sources")) + sorted(src.glob("*.list"))
        elif src.is_file():
            files.append(src)
    found: list[tuple[str, str]] = []
    for file in files:
        text = file.read_text(errors="replace")
        if file.suffix == ".sources":
            for entry in _deb822_entries(text):
                if "deb" in entry.get("types", "").split():
                    found += [(uri.rstrip("/"), entry.get("signed-by", DEFAULT_KEYRING))
                              for uri in entry.get("uris", "").split()]
        else:
            for line in text.splitlines():
                m = re.match(r"\s*deb\s+(\[[^]]*\]\s+)?(\S+)", line)
                if m:
                    found.append((m.group(2).rstrip("/"), DEFAULT_KEYRING))
    return found


def host_mirror(sources: tuple[Path, ...] = HOST_SOURCES) -> tuple[str, str]:
    """Return (mirror URI, keyring) of the host's main Debian archive: the
    first ``deb`` entry whose URI ends in ``/debian``."""
    for uri, keyring in _deb_sources(sources):
        if uri.endswith("/debian"):
            return uri, keyring
    raise ZsbedError("/etc/apt: no Debian archive ('.../debian') in the host's apt sources")


def snapshot_base(sources: tuple[Path, ...] = HOST_SOURCES) -> str:
    """The Debian snapshot archive's address: ``ZSBED_SNAPSHOT``, else the
    host's own apt sources' snapshot entry (``<base>/archive/debian/<time>``);
    none is written into zsbed."""
    if os.environ.get("ZSBED_SNAPSHOT"):
        return os.environ["ZSBED_SNAPSHOT"].rstrip("/")
    for uri, _ in _deb_sources(sources):
        m = re.match(r"(https?://[^/]+(?:/[^/]+)*?)/archive/debian(?:/|$)", uri)
        if m:
            return m.group(1)
    raise ZsbedError("fetch: no Debian snapshot archive known here (none in the host's apt "
                     "sources): set ZSBED_SNAPSHOT to its address")


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


def _apt_download(want: Pin, apt_dir: Path, scratch: Path) -> Path | None:
    """``apt-get download <package>=<version>`` from the host's mirror; None
    when the archive no longer has that version, or its suite."""
    uri, keyring = host_mirror()
    with disk.writing(apt_dir):
        disk.write_text(apt_dir / "zsbed.sources",
                        f"Types: deb\nURIs: {uri}\nSuites: {want.suite}\nComponents: main\n"
                        f"Signed-By: {keyring}\n")
    opts = _apt_options(apt_dir)
    env = {**os.environ, "LC_ALL": "C"}          # apt's messages, as matched below
    proc = subprocess.run(["apt-get", *opts, "update"], capture_output=True, text=True, env=env)
    if proc.returncode != 0 or re.search(r"^(E|W): .*(does not have a Release file|"
                                         r"Failed to fetch .*/dists/)", proc.stderr, re.M):
        disk.check_full(proc.stdout + proc.stderr, apt_dir)
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        say(f"[fetch] apt-get update of {want.suite} failed ({last}); the suite may be gone")
        return None
    proc = subprocess.run(["apt-get", *opts, "download", f"{want.package}={want.version}"],
                          cwd=scratch, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        disk.check_full(proc.stdout + proc.stderr, apt_dir)
        if re.search(r"Version '.*' for '.*' was not found|Unable to locate package",
                     proc.stderr):
            return None
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ZsbedError(f"fetch: apt-get download {want.package}={want.version} failed: {last}")
    return scratch / want.deb


def snapshot_download(want: Pin, scratch: Path) -> Path:
    """The pinned file from the Debian snapshot archive, by its exact version."""
    base = snapshot_base()
    q = urllib.parse.quote
    index = f"{base}/mr/binary/{q(want.package)}/{q(want.version)}/binfiles"
    try:
        with urllib.request.urlopen(index, timeout=60) as r:
            found = json.load(r).get("result", [])
        hashes = [f["hash"] for f in found if f.get("architecture") == "all"]
        if not hashes:
            raise ZsbedError(f"fetch: the snapshot archive lists no {want.origin} (all)")
        out = scratch / want.deb
        with urllib.request.urlopen(f"{base}/file/{q(hashes[0])}", timeout=60) as r, \
                disk.writing(out), out.open("wb") as f:
            shutil.copyfileobj(r, f, 1 << 20)
    except (urllib.error.URLError, OSError, ValueError, AttributeError, KeyError,
            TypeError) as exc:
        raise ZsbedError(f"fetch: {want.origin} is no longer in the archive, and the "
                         f"snapshot archive ({base}) failed: {exc}") from None
    return out


def download_deb(apt_dir: Path, want: Pin) -> Path:
    """Download the pinned .deb: the archive, else the snapshot archive.

    It is downloaded into a scratch directory, checked against the pinned
    sum and moved next to it, so a download cut short never looks like a
    cached .deb.
    """
    scratch = apt_dir / "download.tmp"
    with disk.writing(apt_dir):
        shutil.rmtree(scratch, ignore_errors=True)
        for d in (apt_dir / "lists/partial", apt_dir / "cache/archives/partial", scratch):
            d.mkdir(parents=True, exist_ok=True)
    got = _apt_download(want, apt_dir, scratch)
    if got is None:
        say(f"[fetch] {want.origin} is not in {want.suite} here: from the snapshot archive")
        got = snapshot_download(want, scratch)
    if not got.is_file():
        raise ZsbedError(f"fetch: the download of {want.origin} produced no {want.deb}")
    check_sum(got, want)
    deb = apt_dir / want.deb
    with disk.writing(deb):
        os.replace(got, deb)
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
    """Return the cached pristine tree of the pinned package, fetching it on first use."""
    want = pin()
    dest = paths.WORK / "linux-7.3"
    marker = dest / MARKER
    info = disk.read_state(marker, "fetch", ("version", "origin"))
    if info and info["origin"] == want.origin:
        return Tree(path=dest, version=info["version"], origin=info["origin"], managed=True)
    cached = paths.WORK / "apt" / want.deb
    if cached.is_file():
        # kept from an earlier fetch, or restored by CI's cache
        say(f"[fetch] using {paths.show(cached)} (delete it to download again)")
        try:
            check_sum(cached, want)
            return unpack(cached, dest)
        except ExtractError as exc:
            say(f"[fetch] {exc}: removing it and downloading it again")
            cached.unlink(missing_ok=True)
        except ZsbedError as exc:
            say(f"[fetch] {exc}: downloading it again")
    with step("fetch", f"{want.origin} from {want.suite} (pinned; private apt config, "
                       f"host apt untouched)"):
        deb = download_deb(paths.WORK / "apt", want)
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


_said: set[str] = set()


def fetch(ksrc: str | None) -> Tree:
    """Stage entry point: the tree every later stage works from (named once a run)."""
    tree = user_tree(ksrc) if ksrc else debian_tree()
    if tree.kernel not in _said:
        _said.add(tree.kernel)
        say(f"[fetch] kernel: Linux {tree.kernel}{'' if ksrc else ', pinned'}")
    return tree
