"""Blob stores: where attachment bytes live (memory, a directory, S3), behind one contract."""

from __future__ import annotations

from .filesystem import FilesystemBlobStore as FilesystemBlobStore
from .memory import MemoryBlobStore as MemoryBlobStore
from .protocol import MAX_KEY_LENGTH as MAX_KEY_LENGTH
from .protocol import BlobInfo as BlobInfo
from .protocol import BlobStore as BlobStore
from .protocol import content_disposition as content_disposition
from .protocol import is_valid_key as is_valid_key
from .protocol import safe_filename as safe_filename
from .protocol import validate_key as validate_key
from .protocol import validate_prefix as validate_prefix
from .s3 import S3BlobStore as S3BlobStore

__all__ = [
    "BlobInfo",
    "BlobStore",
    "FilesystemBlobStore",
    "MAX_KEY_LENGTH",
    "MemoryBlobStore",
    "S3BlobStore",
    "content_disposition",
    "is_valid_key",
    "safe_filename",
    "validate_key",
    "validate_prefix",
]
