"""A blob store in an S3 bucket via boto3: streaming multipart uploads, presigned URLs."""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import math
import re
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, BinaryIO

from .._errors import NotFound, StorageError
from ._streams import guarded_reader, read_up_to
from .protocol import BlobInfo, content_disposition, is_valid_key, validate_key, validate_prefix

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, GetObjectRequestTypeDef

_log = logging.getLogger(__name__)

MIB = 1024 * 1024
_MAX_PARTS = 10_000
_MAX_EXPIRY = timedelta(days=7)
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_INSTALL_HINT = "S3BlobStore needs boto3; install the extra: pip install 'supportdesk[s3]'"


@contextmanager
def _s3_errors(key: str) -> Iterator[None]:
    # Imported here so that supportdesk imports without boto3; S3BlobStore checked it exists.
    from botocore.exceptions import BotoCoreError, ClientError
    from urllib3.exceptions import HTTPError

    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _MISSING_CODES:
            raise NotFound("blob", key) from error
        raise StorageError(f"S3 failed on blob {key!r}: {error}") from error
    except (BotoCoreError, HTTPError, OSError) as error:
        raise StorageError(f"S3 failed on blob {key!r}: {error}") from error


class S3BlobStore:
    """A :class:`~supportdesk.blobs.BlobStore` keeping each blob as an object in an S3 bucket.

    Each method behaves as the protocol's docstring says.  The key
    ``a/b.pdf`` is the object ``prefix + "a/b.pdf"``.  Bodies of up
    to ``multipart_threshold`` bytes go up in one ``PutObject``; larger
    ones stream through a multipart upload, ``part_size`` bytes at a time,
    so memory use stays near ``multipart_threshold + part_size`` whatever
    the size.  Every request carries the SHA-256 of its bytes, which S3
    checks; checksums S3 sends back are compared too.  A multipart upload
    that fails is aborted, so no object appears and no parts linger.  Should
    S3 report a different checksum after the object became visible, the
    object is deleted (losing the body it replaced) and the put fails.

    S3 wants parts of at least 5 MiB (the last one aside) and at most
    10,000 of them: with the default 8 MiB parts a blob can reach 78 GiB.

    Works with S3-compatible servers (MinIO, Ceph, moto) through
    ``endpoint_url``; pass your own ``client`` for path-style addressing,
    credentials or retries of your choice.  Reading back verifies the
    SHA-256 of single-part objects at EOF.

    :param bucket: the bucket, which must exist.
    :param prefix: put in front of every key, e.g. ``"attachments/"``;
        :meth:`keys` strips it again.
    :param client: a boto3 S3 client; by default one is made with
        ``endpoint_url`` and ``region_name``, SigV4 signing and standard
        retries, and credentials from boto3's usual chain.
    :param multipart_threshold: bodies larger than this go multipart.
    :param part_size: the size of every part but the last.
    :raises ImportError: boto3 is not installed (the ``s3`` extra).
    :raises ValueError: a size is not positive, the prefix breaks the key
        rules, or both ``client`` and ``endpoint_url``/``region_name`` are given.
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        client: S3Client | None = None,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        multipart_threshold: int = 8 * MIB,
        part_size: int = 8 * MIB,
    ) -> None:
        _require_boto3()
        if multipart_threshold < 1 or part_size < 1:
            raise ValueError(
                f"multipart_threshold and part_size must be positive, "
                f"got {multipart_threshold} and {part_size}"
            )
        if client is not None and (endpoint_url or region_name):
            raise ValueError("pass either a client or endpoint_url/region_name, not both")
        self._bucket = bucket
        self._prefix = validate_prefix(prefix)
        self._client = client or _make_client(endpoint_url, region_name)
        self._threshold = multipart_threshold
        self._part_size = part_size

    @property
    def bucket(self) -> str:
        """The bucket the blobs are stored in."""
        return self._bucket

    @property
    def prefix(self) -> str:
        """What is put in front of every key to name its object."""
        return self._prefix

    def put(
        self, key: str, stream: BinaryIO, *, content_type: str = "application/octet-stream"
    ) -> BlobInfo:
        """Upload ``stream`` as the object of ``key``.

        ``content_type`` becomes the object's ``Content-Type``.
        """
        validate_key(key)
        _check_header_value("content_type", content_type)
        chunks = iter(functools.partial(read_up_to, stream, self._part_size), b"")
        head = self._read_past_threshold(chunks)
        if sum(map(len, head)) <= self._threshold:
            return self._put_single(key, b"".join(head), content_type)
        return self._put_multipart(key, _drained(head, chunks), content_type)

    def open(self, key: str) -> BinaryIO:
        """A stream of the object's body."""
        request: GetObjectRequestTypeDef = {
            "Bucket": self._bucket,
            "Key": self._object_key(key),
            "ChecksumMode": "ENABLED",
        }
        with _s3_errors(key):
            body = self._client.get_object(**request)["Body"]
        return guarded_reader(body, lambda: _s3_errors(key))

    def delete(self, key: str) -> None:
        """Delete the object of ``key``; S3 ignores missing ones."""
        object_key = self._object_key(key)
        with _s3_errors(key):
            self._client.delete_object(Bucket=self._bucket, Key=object_key)

    def exists(self, key: str) -> bool:
        """Whether the object of ``key`` exists."""
        try:
            self.modified_at(key)
        except NotFound:
            return False
        return True

    def keys(self, prefix: str = "") -> Iterator[str]:
        """The keys under ``prefix``, in S3's (ascending) order.

        Objects under the store's prefix whose names break the key rules
        are skipped: this store could not open or delete them anyway.
        """
        validate_prefix(prefix)
        return self._list(self._prefix + prefix)

    def modified_at(self, key: str) -> datetime:
        """The object's ``Last-Modified`` time."""
        object_key = self._object_key(key)
        with _s3_errors(key):
            response = self._client.head_object(Bucket=self._bucket, Key=object_key)
        return response["LastModified"].astimezone(UTC)

    def presign(
        self, key: str, *, filename: str, expires_in: timedelta, content_type: str | None = None
    ) -> str:
        """A presigned ``GetObject`` URL forcing a download.

        ``expires_in`` is rounded up to whole seconds and may not exceed
        seven days (the SigV4 limit).  The URL is signed locally: no request
        is made, and a missing object only shows when the URL is used.
        """
        params = {
            "Bucket": self._bucket,
            "Key": self._object_key(key),
            "ResponseContentDisposition": content_disposition(filename),
        }
        if content_type is not None:
            _check_header_value("content_type", content_type)
            params["ResponseContentType"] = content_type
        seconds = _expiry_seconds(expires_in)
        with _s3_errors(key):
            return self._client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=seconds
            )

    def _object_key(self, key: str) -> str:
        return self._prefix + validate_key(key)

    def _list(self, object_prefix: str) -> Iterator[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        with _s3_errors(object_prefix):
            for page in paginator.paginate(Bucket=self._bucket, Prefix=object_prefix):
                for item in page.get("Contents", []):
                    key = item["Key"].removeprefix(self._prefix)
                    if is_valid_key(key):
                        yield key

    def _read_past_threshold(self, chunks: Iterator[bytes]) -> deque[bytes]:
        # Reading whole parts keeps every part but the last exactly part_size long.
        head: deque[bytes] = deque()
        size = 0
        for chunk in chunks:
            head.append(chunk)
            size += len(chunk)
            if size > self._threshold:
                break
        return head

    def _put_single(self, key: str, body: bytes, content_type: str) -> BlobInfo:
        digest = hashlib.sha256(body)
        checksum = _base64(digest.digest())
        with _s3_errors(key):
            response = self._client.put_object(
                Bucket=self._bucket,
                Key=self._object_key(key),
                Body=body,
                ContentType=content_type,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=checksum,
            )
        self._verify_stored(key, response.get("ChecksumSHA256"), {checksum})
        return BlobInfo(key=key, size=len(body), sha256=digest.hexdigest())

    def _put_multipart(self, key: str, chunks: Iterator[bytes], content_type: str) -> BlobInfo:
        with _s3_errors(key):
            upload_id = self._client.create_multipart_upload(
                Bucket=self._bucket,
                Key=self._object_key(key),
                ContentType=content_type,
                ChecksumAlgorithm="SHA256",
            )["UploadId"]
        try:
            info, parts = self._upload_parts(key, upload_id, chunks)
            with _s3_errors(key):
                response = self._client.complete_multipart_upload(
                    Bucket=self._bucket,
                    Key=self._object_key(key),
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            self._abort(key, upload_id)
            raise
        # AWS answers with the composite checksum; other servers may give the whole body's.
        accepted = {_composite_checksum(parts), _base64(bytes.fromhex(info.sha256))}
        self._verify_stored(key, response.get("ChecksumSHA256"), accepted)
        return info

    def _upload_parts(
        self, key: str, upload_id: str, chunks: Iterator[bytes]
    ) -> tuple[BlobInfo, list[CompletedPartTypeDef]]:
        digest = hashlib.sha256()
        size = 0
        parts: list[CompletedPartTypeDef] = []
        for body in chunks:
            if len(parts) == _MAX_PARTS:
                raise StorageError(
                    f"blob {key!r} needs more than {_MAX_PARTS} parts of {self._part_size} bytes"
                )
            digest.update(body)
            size += len(body)
            parts.append(self._upload_part(key, upload_id, len(parts) + 1, body))
            # Without this, the loop variable holds the part while the next one is read.
            del body
        return BlobInfo(key=key, size=size, sha256=digest.hexdigest()), parts

    def _upload_part(
        self, key: str, upload_id: str, number: int, body: bytes
    ) -> CompletedPartTypeDef:
        checksum = _base64(hashlib.sha256(body).digest())
        with _s3_errors(key):
            response = self._client.upload_part(
                Bucket=self._bucket,
                Key=self._object_key(key),
                UploadId=upload_id,
                PartNumber=number,
                Body=body,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=checksum,
            )
        returned = response.get("ChecksumSHA256")
        if returned is not None and returned != checksum:
            raise StorageError(
                f"S3 stored part {number} of blob {key!r} with SHA-256 {returned}, sent {checksum}"
            )
        return {"PartNumber": number, "ETag": response["ETag"], "ChecksumSHA256": checksum}

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            with _s3_errors(key):
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=self._object_key(key), UploadId=upload_id
                )
        except StorageError:
            # The original failure matters more; a lifecycle rule can reap the parts.
            _log.warning(
                "could not abort multipart upload %s of blob %r", upload_id, key, exc_info=True
            )

    def _verify_stored(self, key: str, returned: str | None, accepted: set[str]) -> None:
        # Some servers leave out the "-<parts>" suffix of a composite checksum.
        if returned is None or _without_part_count(returned) in map(_without_part_count, accepted):
            return
        # The object is visible already: a corrupt body must not stay.
        self.delete(key)
        raise StorageError(
            f"S3 stored blob {key!r} with SHA-256 {returned}, expected one of "
            f"{sorted(accepted)}; deleted it"
        )


def _drained(head: deque[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    # Popping lets each read-ahead part be freed once uploaded.
    while head:
        yield head.popleft()
    yield from rest


def _require_boto3() -> None:
    try:
        import boto3  # noqa: F401
        import botocore  # noqa: F401
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error


def _make_client(endpoint_url: str | None, region_name: str | None) -> S3Client:
    import boto3
    from botocore.config import Config

    # SigV4 everywhere: presigned URLs then carry X-Amz-Expires, and new regions demand it.
    config = Config(signature_version="s3v4", retries={"mode": "standard"})
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region_name, config=config)


def _base64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _composite_checksum(parts: list[CompletedPartTypeDef]) -> str:
    # S3's checksum of a multipart object: the SHA-256 of the parts' digests, then "-<count>".
    digests = b"".join(base64.b64decode(part["ChecksumSHA256"]) for part in parts)
    return f"{_base64(hashlib.sha256(digests).digest())}-{len(parts)}"


def _without_part_count(checksum: str) -> str:
    # Base64 has no "-", so anything after one is the part count.
    return checksum.partition("-")[0]


def _expiry_seconds(expires_in: timedelta) -> int:
    if not timedelta(0) < expires_in <= _MAX_EXPIRY:
        raise ValueError(f"expires_in must be more than 0 and at most 7 days, got {expires_in}")
    return math.ceil(expires_in.total_seconds())


def _check_header_value(name: str, value: str) -> None:
    if _CONTROL.search(value):
        raise ValueError(f"{name} must not contain control characters: {value!r}")
