"""A blob store in a directory tree: one file per key, written atomically."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from .._errors import NotFound, StorageError
from ._streams import guarded_reader
from .protocol import CHUNK_SIZE, BlobInfo, is_valid_key, validate_key, validate_prefix

# "~" is not allowed in keys, so a temporary file can never be taken for a blob.
_TEMP_PREFIX = ".~put-"
_MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError)


@contextmanager
def _storage_errors(key: str) -> Iterator[None]:
    try:
        yield
    except OSError as error:
        raise StorageError(f"file system failed on blob {key!r}: {error}") from error


class FilesystemBlobStore:
    """A :class:`~supportdesk.blobs.BlobStore` keeping each blob in a file under ``root``.

    Each method behaves as the protocol's docstring says.  The key
    ``a/b.pdf`` is the file ``root/a/b.pdf``.  A put writes a
    temporary file in the target's directory, fsyncs it and renames it over
    the target, so readers see the old body or the new one, never a torn
    one, even across a crash.  Every key is resolved (following symlinks)
    and must land strictly inside ``root``; anything else is refused.  The
    store never creates symlinks, and :meth:`keys` does not follow them.

    Keys ``a`` and ``a/b`` cannot both exist here (a file cannot also be a
    directory): the second put fails with :class:`~supportdesk.StorageError`,
    as does a key segment longer than the file system allows (often 255 bytes).
    Empty directories are left behind by :meth:`delete`, because removing
    them would race with a put into the same directory.  A crash can leave
    temporary files (named ``.~put-*``); they are never listed, and a
    sweep of old ones is safe.  Files are readable by their owner only
    (``mkstemp`` makes them 0600).  :meth:`presign` returns None.

    :param root: the directory; created on the first put if missing.
    """

    def __init__(self, root: Path | str) -> None:
        self._root = Path(root).resolve()

    @property
    def root(self) -> Path:
        """The resolved root directory."""
        return self._root

    def put(
        self, key: str, stream: BinaryIO, *, content_type: str = "application/octet-stream"
    ) -> BlobInfo:
        """Write ``stream`` to the file of ``key`` atomically.

        ``content_type`` is not kept: files have no metadata.
        """
        path = self._path(key)
        with _storage_errors(key):
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=_TEMP_PREFIX)
        try:
            with os.fdopen(descriptor, "wb") as file:
                info = _copy(key, stream, file)
                with _storage_errors(key):
                    file.flush()
                    os.fsync(file.fileno())
            with _storage_errors(key):
                os.replace(temp_name, path)
                _fsync_directory(path.parent)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return info

    def open(self, key: str) -> BinaryIO:
        """The file of ``key``, opened for reading."""
        path = self._path(key)
        try:
            file = path.open("rb", buffering=0)
        except _MISSING as error:
            raise NotFound("blob", key) from error
        except OSError as error:
            raise StorageError(f"file system failed on blob {key!r}: {error}") from error
        return guarded_reader(file, lambda: _storage_errors(key))

    def delete(self, key: str) -> None:
        """Remove the file of ``key``, if any."""
        path = self._path(key)
        with _storage_errors(key), suppress(*_MISSING):
            path.unlink()

    def exists(self, key: str) -> bool:
        """Whether ``key`` is a regular file under the root."""
        return self._stat(key) is not None

    def keys(self, prefix: str = "") -> Iterator[str]:
        """The keys of the files under the root, sorted."""
        validate_prefix(prefix)
        directory = prefix.rpartition("/")[0]
        start = self._path(directory) if directory else self._root
        return (key for key in self._walk(start, directory, prefix) if key.startswith(prefix))

    def modified_at(self, key: str) -> datetime:
        """The modification time of the file of ``key``."""
        status = self._stat(key)
        if status is None:
            raise NotFound("blob", key)
        return datetime.fromtimestamp(status.st_mtime, UTC)

    def presign(
        self, key: str, *, filename: str, expires_in: timedelta, content_type: str | None = None
    ) -> str | None:
        """Always None: files have no URLs."""
        self._path(key)
        return None

    def _path(self, key: str) -> Path:
        validate_key(key)
        with _storage_errors(key):
            path = (self._root / key).resolve()
        if path == self._root or not path.is_relative_to(self._root):
            raise ValueError(f"blob key {key!r} leads outside the store's root {self._root}")
        return path

    def _stat(self, key: str) -> os.stat_result | None:
        path = self._path(key)
        with _storage_errors(key):
            try:
                status = path.stat()
            except _MISSING:
                return None
        return status if stat.S_ISREG(status.st_mode) else None

    def _walk(self, directory: Path, relative: str, prefix: str) -> Iterator[str]:
        with _storage_errors(relative):
            try:
                with os.scandir(directory) as scan:
                    entries = sorted(scan, key=_listing_order)
            except _MISSING:
                return
        for entry in entries:
            key = f"{relative}/{entry.name}" if relative else entry.name
            if not is_valid_key(key):
                continue
            if entry.is_dir(follow_symlinks=False):
                if _may_hold(key, prefix):
                    yield from self._walk(Path(entry.path), key, prefix)
            elif entry.is_file(follow_symlinks=False):
                yield key


def _copy(key: str, stream: BinaryIO, file: BinaryIO) -> BlobInfo:
    digest = hashlib.sha256()
    size = 0
    # Reading stays outside the guard: the caller's stream errors are not storage errors.
    while chunk := stream.read(CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
        with _storage_errors(key):
            file.write(chunk)
    return BlobInfo(key=key, size=size, sha256=digest.hexdigest())


def _fsync_directory(directory: Path) -> None:
    # The rename is only durable once the directory entry is; Windows cannot open directories.
    if os.name == "nt":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _listing_order(entry: os.DirEntry[str]) -> str:
    # Keys sort as strings: the directory "a" holds "a/...", which sorts after "a-b" and "a.b".
    return entry.name + "/" if entry.is_dir(follow_symlinks=False) else entry.name


def _may_hold(directory_key: str, prefix: str) -> bool:
    below = directory_key + "/"
    return below.startswith(prefix) or prefix.startswith(below)
