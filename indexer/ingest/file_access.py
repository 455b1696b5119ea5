"""Finding report files and reading their bytes without trusting the file system.

Only regular files are opened: FIFOs, sockets and devices would block a reader or never end, so they are
refused from ``stat`` alone, and the file is opened with ``O_NONBLOCK`` and checked again on the open
descriptor in case it was swapped meanwhile. Links are resolved with loops caught; a file found in a folder
must resolve inside that folder. Reading stops past the size limit whatever size the file claims.

Paths are kept as ``str`` with undecodable bytes as surrogate escapes (what ``os`` returns); ``source_name``
turns one into text that can be stored and printed.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ListedFile",
    "ReadError",
    "SkippedFile",
    "list_sources",
    "read_regular",
    "source_name",
]

_CHUNK = 1 << 20


def source_name(path: str | os.PathLike[str]) -> str:
    """The path as valid text: bytes that are not UTF-8 become ``\\xNN`` escapes."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


class ReadError(Exception):
    """A file that could not be read as a document; ``str()`` is ``"{path}: {reason}"``."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = source_name(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):  # keep picklable (multiprocessing) despite the two-argument constructor
        return (type(self), (self.path, self.reason))


class SkippedFile(ReadError):
    """Not a document by policy (a special file, a link out of the folder): reported, not a failure."""


@dataclass(frozen=True)
class ListedFile:
    path: Path
    root: Path | None  # the folder it was found in (it must resolve inside it); None when named directly


def _kind(mode: int) -> str | None:
    """What a non-regular file is, or None for a regular file."""
    for test, name in (
        (stat.S_ISREG, None),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _is_regular_target(path: str) -> bool:
    """True for a regular file or a link that ends at one (never opens anything)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def list_sources(
    paths: Iterable[str | os.PathLike[str]],
    wanted: Callable[[str], bool],
    hidden: Callable[[str], bool],
) -> list[ListedFile]:
    """Given files as they are, folders walked (sorted): names ``wanted`` accepts, plus every entry that is
    not a regular file (so it is reported, not silently passed over); ``hidden`` names are left out."""
    listed: list[ListedFile] = []
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            listed.append(ListedFile(path, None))
            continue
        found: list[Path] = []
        for folder, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if not hidden(d)]
            for name in files:
                full = os.path.join(folder, name)
                if not hidden(name) and (wanted(name) or not _is_regular_target(full)):
                    found.append(Path(full))
        listed.extend(ListedFile(p, path) for p in sorted(found))
    return listed


def _resolve(path: Path) -> str:
    try:
        return os.path.realpath(path, strict=True)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise SkippedFile(path, "symbolic link loop") from err
        if err.errno == errno.ENOENT:
            reason = "dangling symbolic link" if os.path.islink(path) else "no such file"
            raise ReadError(path, reason) from err
        if err.errno == errno.EACCES:
            raise ReadError(path, "cannot read: permission denied") from err
        raise ReadError(path, f"cannot read: {err.strerror or err}") from err
    except RuntimeError as err:  # older Pythons report link loops this way
        raise SkippedFile(path, "symbolic link loop") from err


def read_regular(path: Path, root: Path | None, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file (inside ``root`` if given) of at most ``limit`` bytes."""
    real = _resolve(path)
    if root is not None:
        inside = os.path.realpath(root)
        if os.path.commonpath([real, inside]) != inside:
            raise SkippedFile(path, f"links outside {source_name(root)} (to {source_name(real)})")
    try:
        kind = _kind(os.stat(real).st_mode)
        if kind is not None:
            raise SkippedFile(path, f"{kind}, not a regular file")
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except PermissionError as err:
        raise ReadError(path, "cannot read: permission denied") from err
    except OSError as err:
        raise ReadError(path, f"cannot read: {err.strerror or err}") from err
    try:
        info = os.fstat(fd)
        kind = _kind(info.st_mode)
        if kind is not None:  # swapped between the checks
            raise SkippedFile(path, f"{kind}, not a regular file")
        if info.st_size > limit:
            raise ReadError(path, f"file too large ({info.st_size} bytes, limit {limit})")
        parts: list[bytes] = []
        size = 0
        while size <= limit:  # the reported size is not trusted: /proc files say 0, files grow
            part = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not part:
                break
            parts.append(part)
            size += len(part)
        if size > limit:
            raise ReadError(path, f"file too large (over {limit} bytes)")
        return b"".join(parts)
    except IsADirectoryError as err:
        raise ReadError(path, "is a directory") from err
    except OSError as err:
        raise ReadError(path, f"cannot read: {err.strerror or err}") from err
    finally:
        os.close(fd)
