"""Large uploads stream: putting 200 MiB keeps Python's peak allocation far below that."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from supportdesk.blobs import BlobInfo, FilesystemBlobStore, S3BlobStore
from supportdesk.testing.blob_contract import patterned_stream, sha256_of_stream

if TYPE_CHECKING:
    from conftest import S3Location

MIB = 1024 * 1024
SIZE = 200 * MIB
PEAK_LIMIT = 50 * MIB


def peak_while(put: Callable[[], BlobInfo]) -> tuple[BlobInfo, int]:
    """Run ``put`` under tracemalloc; its result and the peak of traced memory in bytes."""
    tracemalloc.start()
    try:
        info = put()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return info, peak


def assert_streamed(info: BlobInfo, peak: int) -> None:
    """The whole 200 MiB arrived, and memory never came near holding it."""
    assert info.size == SIZE
    assert info.sha256 == sha256_of_stream(patterned_stream(SIZE))
    assert peak < PEAK_LIMIT, f"peak {peak / MIB:.1f} MiB"


def test_filesystem_put_streams(tmp_path: Path) -> None:
    """1 MiB at a time to a temporary file."""
    store = FilesystemBlobStore(tmp_path)
    assert_streamed(*peak_while(lambda: store.put("big", patterned_stream(SIZE))))


@pytest.mark.s3
def test_s3_put_streams(s3_location: S3Location) -> None:
    """The default 8 MiB parts, one at a time (moto's server runs in another process)."""
    store = S3BlobStore(s3_location.bucket, prefix=s3_location.prefix, client=s3_location.client)
    store.exists("warm-up")  # botocore loads its models lazily; that is not the upload's cost
    assert_streamed(*peak_while(lambda: store.put("big", patterned_stream(SIZE))))
