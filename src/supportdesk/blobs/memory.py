"""A blob store in a dict: for tests, demos and single-process prototypes."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import BinaryIO

import attrs

from .._errors import NotFound
from ..clock import Clock, SystemClock
from .protocol import CHUNK_SIZE, BlobInfo, validate_key, validate_prefix


@attrs.frozen
class _Blob:
    body: bytes
    modified_at: datetime


class MemoryBlobStore:
    """A :class:`~supportdesk.blobs.BlobStore` keeping every body in memory.

    Each method behaves as the protocol's docstring says.  Nothing survives
    the process and nothing is shared between processes.  :meth:`presign`
    returns None.

    :param clock: where :meth:`modified_at` times come from; pass a
        :class:`~supportdesk.clock.FakeClock` to test grace periods.
    """

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._blobs: dict[str, _Blob] = {}
        self._lock = threading.Lock()

    def put(
        self, key: str, stream: BinaryIO, *, content_type: str = "application/octet-stream"
    ) -> BlobInfo:
        """Read ``stream`` to EOF and keep it under ``key``."""
        validate_key(key)
        body = bytearray()
        digest = hashlib.sha256()
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
            body += chunk
        blob = _Blob(body=bytes(body), modified_at=self._clock.now())
        with self._lock:
            self._blobs[key] = blob
        return BlobInfo(key=key, size=len(blob.body), sha256=digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        """A stream over the body under ``key``."""
        return io.BytesIO(self._get(key).body)

    def delete(self, key: str) -> None:
        """Forget the body under ``key``, if any."""
        validate_key(key)
        with self._lock:
            self._blobs.pop(key, None)

    def exists(self, key: str) -> bool:
        """Whether a body is kept under ``key``."""
        validate_key(key)
        with self._lock:
            return key in self._blobs

    def keys(self, prefix: str = "") -> Iterator[str]:
        """The keys starting with ``prefix``, sorted."""
        validate_prefix(prefix)
        with self._lock:
            # A snapshot, so that callers may delete while iterating.
            matching = sorted(key for key in self._blobs if key.startswith(prefix))
        return iter(matching)

    def modified_at(self, key: str) -> datetime:
        """When ``key`` was last put, by the store's clock."""
        return self._get(key).modified_at

    def presign(
        self, key: str, *, filename: str, expires_in: timedelta, content_type: str | None = None
    ) -> str | None:
        """Always None: memory has no URLs."""
        validate_key(key)
        return None

    def _get(self, key: str) -> _Blob:
        validate_key(key)
        with self._lock:
            blob = self._blobs.get(key)
        if blob is None:
            raise NotFound("blob", key)
        return blob
