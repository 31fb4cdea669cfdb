"""Stream helpers shared by the blob store adapters: bounded reads and error translation."""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import BinaryIO, Protocol


class Readable(Protocol):
    """Anything with ``read(size)``: files, HTTP bodies."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes; empty at EOF."""
        ...


class Source(Readable, Protocol):
    """A readable resource that must be closed."""

    def close(self) -> None:
        """Release the resource."""
        ...


def read_up_to(stream: Readable, size: int) -> bytes:
    """Exactly ``size`` bytes from ``stream``, or fewer only at EOF.

    ``read(n)`` on raw streams and sockets may return less than asked
    for before EOF; this keeps reading until it has ``size`` bytes.
    """
    first = stream.read(size)
    if len(first) == size or not first:
        return first
    pieces = [first]
    missing = size - len(first)
    while missing and (piece := stream.read(missing)):
        pieces.append(piece)
        missing -= len(piece)
    return b"".join(pieces)


class _GuardedRaw(io.RawIOBase):
    def __init__(self, source: Source, guard: Callable[[], AbstractContextManager[object]]) -> None:
        self._source = source
        self._guard = guard

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        with self._guard():
            data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                with self._guard():
                    self._source.close()
            finally:
                super().close()


def guarded_reader(source: Source, guard: Callable[[], AbstractContextManager[object]]) -> BinaryIO:
    """A buffered binary stream over ``source`` whose reads and close run inside ``guard()``.

    The guard is a context manager that turns driver errors into the
    library's own, so that errors while reading a blob surface the same
    way as errors while opening it.
    """
    return io.BufferedReader(_GuardedRaw(source, guard))
