"""Answers kept by what they were computed from, in gridcloud's cache (``memo/``): a value
that depends only on some input and on gridcloud's own code is kept under the digest of
both, and read back the next time instead of computed (a valid profile's models, the
catalog's parsed files).

The key of an entry covers:

- what the caller names as the input (a profile's text, a catalog's files and their times);
- every file of the installed ``gridcloud`` package, by path, size and modification time (as
  Python's own bytecode cache judges a module): an edit to a model, a validator or the data
  one reads is a new key;
- the Python version and ``marshal``'s format.

Entries are ``marshal`` data: plain values only (strings, numbers, tuples, lists, dicts), so
reading one can build data but never run code or make an object of any class, as
``pickle`` could from a planted file (a CI cache restored from another job, say). Each caller
turns its value into such data and back (gridcloud/profile/memo.py). A damaged, unreadable or
foreign entry is a miss, and a read-only cache only costs time. Entries are written whole
(renamed into place) and readable by their owner only. Nothing secret is kept (profiles and
catalogs hold none).
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
from functools import cache
from pathlib import Path
from typing import Any

#: marshal's format 4 (Python 3.4+), fixed so a newer Python's default does not change keys.
_FORMAT = 4
_STAMP: list[bytes | None] = []

#: gridcloud's cache (pulled charts, parsed chart files, validated values' digests, these
#: entries): default, the user cache directory. Tests point it at their own directory.
CACHE_DIR_ENV = "GRIDCLOUD_CACHE_DIR"


def cache_dir() -> Path:
    """gridcloud's cache: ``$GRIDCLOUD_CACHE_DIR``, else the user cache directory."""
    given = os.environ.get(CACHE_DIR_ENV)
    if given:
        return Path(given)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("gridcloud"))


def _code_stamp() -> bytes | None:
    """gridcloud's version and files (path, size, modification time), Python's and
    marshal's versions; None when gridcloud's files cannot be listed (a zip, say: then
    nothing is kept, as a stamp without them could not see a change)."""
    if _STAMP:
        return _STAMP[0]
    import gridcloud

    digest = hashlib.sha256(
        f"{gridcloud.__version__}\0{sys.version_info[:3]}\0{_FORMAT}\n".encode()
    )
    folders = [os.path.dirname(gridcloud.__file__)]  # noqa: PTH120 (scandir's str paths)
    listed = 0
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as found:
                items = sorted(found, key=lambda e: e.name)
        except OSError:
            digest.update(f"{folder}\0unlisted\n".encode())
            continue
        for item in items:
            try:
                if item.is_dir():
                    if item.name != "__pycache__":
                        folders.append(item.path)
                    continue
                stat = item.stat()
            except OSError:  # one unreadable entry (an editor's lock link) names only itself
                digest.update(f"{item.path}\0-\n".encode())
                continue
            listed += 1
            digest.update(f"{item.path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    _STAMP.append(digest.digest() if listed else None)
    return _STAMP[0]


@cache
def module_stamp(name: str) -> str:
    """An installed module's identity without importing it (PyYAML's import is ~25 ms, and
    a cache hit needs none of it): the path, size and time of the file it loads from, which
    an upgrade replaces."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    origin = spec.origin if spec is not None else None
    if origin is None:
        return f"no {name}"
    stat = Path(origin).stat()
    return f"{origin}\0{stat.st_size}\0{stat.st_mtime_ns}"


#: ``off``: nothing kept or read back.
MEMO_ENV = "GRIDCLOUD_MEMO"

#: Entries of one kind kept at most; past it the oldest go (a profile edited a hundred
#: times, or gridcloud updated, leaves no more than this behind).
KEEP_AT_MOST = 64


def entry(kind: str, *parts: str | bytes) -> Path | None:
    """The cache file of ``kind`` for this input under this gridcloud (None: none kept, as
    with ``GRIDCLOUD_MEMO=off``, which mutation testing sets: mutmut switches a mutant on by a
    variable, which the files' stamp cannot see)."""
    if os.environ.get(MEMO_ENV) == "off":
        return None
    stamp = _code_stamp()
    if stamp is None:
        return None
    digest = hashlib.sha256(stamp)
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return cache_dir() / "memo" / kind / digest.hexdigest()[:40]


def recall(kind: str, parts: tuple[str | bytes, ...]) -> Any:
    """The data kept for this input; None when there is none (or it cannot be read)."""
    path = entry(kind, *parts)
    if path is None:
        return None
    with contextlib.suppress(OSError, EOFError, ValueError, TypeError):
        return marshal.loads(path.read_bytes())
    return None


def keep(kind: str, parts: tuple[str | bytes, ...], data: Any) -> None:
    """Keep ``data`` (plain values only) for this input; nothing happens when it cannot be
    kept."""
    import tempfile

    path = entry(kind, *parts)
    if path is None:
        return
    with contextlib.suppress(OSError, ValueError):
        written = marshal.dumps(data, _FORMAT)
        path.parent.mkdir(parents=True, exist_ok=True)
        # a new file of its own (mode 0600, never an existing name or link), renamed into
        # place: whole or absent, a reader never sees half a file
        descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(written)
            Path(partial).replace(path)
        finally:
            with contextlib.suppress(OSError):
                Path(partial).unlink()
        _prune(path.parent)


def _prune(folder: Path) -> None:
    """The oldest entries past :data:`KEEP_AT_MOST` removed (and partial files a killed
    run left, an hour old)."""
    import time

    with contextlib.suppress(OSError):
        found = [(item.stat().st_mtime, item) for item in folder.iterdir()]
        stale = time.time() - 3600
        partial = [item for when, item in found if item.name.startswith(".") and when < stale]
        whole = sorted((x for x in found if not x[1].name.startswith(".")), reverse=True)
        for item in partial + [item for _, item in whole[KEEP_AT_MOST:]]:
            with contextlib.suppress(OSError):
                item.unlink()
