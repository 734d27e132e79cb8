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
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

#: marshal's format 4 (Python 3.4+), fixed so a newer Python's default does not change keys.
_FORMAT = 4
_STAMP: list[bytes] = []

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


def _code_stamp() -> bytes:
    """gridcloud's files (path, size, modification time), Python's and marshal's versions."""
    if _STAMP:
        return _STAMP[0]
    import gridcloud

    digest = hashlib.sha256(f"{sys.version_info[:3]}\0{_FORMAT}\n".encode())
    folders = [os.path.dirname(gridcloud.__file__)]  # noqa: PTH120 (scandir's str paths)
    while folders:
        folder = folders.pop()
        with contextlib.suppress(OSError), os.scandir(folder) as found:
            for item in sorted(found, key=lambda e: e.name):
                if item.is_dir():
                    if item.name != "__pycache__":
                        folders.append(item.path)
                    continue
                stat = item.stat()
                digest.update(f"{item.path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    _STAMP.append(digest.digest())
    return _STAMP[0]


def file_stamp(paths: Iterable[Path]) -> str:
    """Files as a key part: their paths, sizes and modification times (missing: none)."""
    parts = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            parts.append(f"{path}\0-")
        else:
            parts.append(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    return "\n".join(parts)


def entry(kind: str, *parts: str | bytes) -> Path:
    """The cache file of ``kind`` for this input under this gridcloud."""
    digest = hashlib.sha256(_code_stamp())
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return cache_dir() / "memo" / kind / digest.hexdigest()[:40]


def recall(kind: str, parts: tuple[str | bytes, ...]) -> Any:
    """The data kept for this input; None when there is none (or it cannot be read)."""
    with contextlib.suppress(OSError, EOFError, ValueError, TypeError):
        return marshal.loads(entry(kind, *parts).read_bytes())
    return None


def keep(kind: str, parts: tuple[str | bytes, ...], data: Any) -> None:
    """Keep ``data`` (plain values only) for this input; nothing happens when it cannot be
    kept."""
    with contextlib.suppress(OSError, ValueError):
        written = marshal.dumps(data, _FORMAT)
        path = entry(kind, *parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(written)
        partial.replace(path)  # whole or absent: a reader never sees half a file
