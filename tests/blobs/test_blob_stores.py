"""The blob store contract, run against every adapter: memory, filesystem and S3."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from supportdesk.blobs import BlobStore, FilesystemBlobStore, MemoryBlobStore, S3BlobStore
from supportdesk.testing.blob_contract import BlobStoreContract

if TYPE_CHECKING:
    from conftest import S3Location


class TestMemoryBlobStore(BlobStoreContract):
    """The contract on a dict."""

    @pytest.fixture
    def blob_store(self) -> BlobStore:
        """A new memory store."""
        return MemoryBlobStore()


class TestFilesystemBlobStore(BlobStoreContract):
    """The contract on a directory that does not exist yet."""

    @pytest.fixture
    def blob_store(self, tmp_path: Path) -> BlobStore:
        """A store rooted in a fresh directory."""
        return FilesystemBlobStore(tmp_path / "blobs")


@pytest.mark.s3
class TestS3BlobStore(BlobStoreContract):
    """The contract over HTTP, on moto's server or SUPPORTDESK_S3_ENDPOINT."""

    @pytest.fixture
    def blob_store(self, s3_location: S3Location) -> BlobStore:
        """A store on a fresh bucket, splitting bodies at the test part size."""
        return S3BlobStore(
            s3_location.bucket,
            prefix=s3_location.prefix,
            client=s3_location.client,
            multipart_threshold=s3_location.part_size,
            part_size=s3_location.part_size,
        )

    @pytest.fixture
    def blob_part_size(self, s3_location: S3Location) -> int:
        """The store's threshold and part size."""
        return s3_location.part_size
