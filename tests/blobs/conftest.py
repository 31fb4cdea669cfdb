"""Fixtures for the blob store tests: an S3 endpoint (moto's server, or a real one) and buckets."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from tests.moto_server import start_moto, stop_moto

if TYPE_CHECKING:
    import boto3.session
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024
MOTO_PART_SIZE = 256 * 1024
"""Parts against moto: small keeps the suite fast; moto is told to accept them."""
S3_MIN_PART_SIZE = 5 * MIB
"""Parts against a real S3: its minimum for every part but the last."""


@attrs.frozen(kw_only=True)
class S3Target:
    """Where the S3 tests run: moto's server on loopback, or SUPPORTDESK_S3_ENDPOINT."""

    endpoint_url: str
    region_name: str
    access_key: str
    secret_key: str
    session_token: str | None = None
    bucket: str | None
    """The one bucket to use (a real endpoint), or None for a fresh bucket per test (moto)."""
    part_size: int
    is_moto: bool

    def client(self, *, endpoint_url: str | None = None, **config: Any) -> S3Client:
        """A client with path-style addressing, SigV4 and no retries, plus ``config``."""
        from botocore.config import Config

        settings: dict[str, Any] = {
            "s3": {"addressing_style": "path"},
            "signature_version": "s3v4",
            "retries": {"max_attempts": 1, "mode": "standard"},
        }
        settings.update(config)
        return _session(isolated=self.is_moto).client(
            "s3",
            endpoint_url=endpoint_url or self.endpoint_url,
            region_name=self.region_name,
            config=Config(**settings),
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            aws_session_token=self.session_token,
        )


@functools.cache
def _session(*, isolated: bool) -> boto3.session.Session:
    # One session for all clients: it caches the service model, making clients cheap.
    import boto3.session
    import botocore.session

    core = botocore.session.Session()
    if isolated:
        # Against moto, ~/.aws must not matter: no config and no credentials files.
        core.set_config_variable("config_file", os.devnull)
        core.set_config_variable("credentials_file", os.devnull)
    return boto3.session.Session(botocore_session=core)


@attrs.frozen(kw_only=True)
class S3Location:
    """A bucket and key prefix of one test's own, with a client to inspect it."""

    client: S3Client
    bucket: str
    prefix: str
    part_size: int


def _unavailable(reason: str) -> None:
    message = (
        f"{reason}: install moto[server], or set SUPPORTDESK_S3_ENDPOINT, SUPPORTDESK_S3_BUCKET "
        "and the AWS credential variables to test against a real S3"
    )
    # On CI a skipped S3 suite would pass unnoticed.
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _real_target(endpoint: str) -> S3Target:
    bucket = os.environ.get("SUPPORTDESK_S3_BUCKET")
    if not bucket:
        pytest.fail("SUPPORTDESK_S3_ENDPOINT is set but SUPPORTDESK_S3_BUCKET is not")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return S3Target(
        endpoint_url=endpoint,
        region_name=region,
        access_key=os.environ.get("AWS_ACCESS_KEY_ID", ""),
        secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
        session_token=os.environ.get("AWS_SESSION_TOKEN"),
        bucket=bucket,
        part_size=S3_MIN_PART_SIZE,
        is_moto=False,
    )


@pytest.fixture(scope="session")
def s3_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Target]:
    """The S3 endpoint of this session; moto's server unless SUPPORTDESK_S3_ENDPOINT is set."""
    try:
        import boto3  # noqa: F401
    except ImportError:
        _unavailable("boto3 is not installed")
    if endpoint := os.environ.get("SUPPORTDESK_S3_ENDPOINT"):
        yield _real_target(endpoint)
        return
    try:
        import moto.server  # noqa: F401
    except ImportError:
        _unavailable("moto[server] is not installed")
    process, port = start_moto(tmp_path_factory.mktemp("moto") / "server.log", MOTO_PART_SIZE)
    yield S3Target(
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        access_key="testing",
        secret_key="testing",
        bucket=None,
        part_size=MOTO_PART_SIZE,
        is_moto=True,
    )
    stop_moto(process)


@pytest.fixture
def s3_location(s3_target: S3Target) -> Iterator[S3Location]:
    """A fresh bucket (moto) or a fresh prefix in the given bucket (real S3), emptied after."""
    client = s3_target.client()
    if s3_target.bucket is None:
        bucket, prefix = f"supportdesk-{uuid.uuid4().hex[:16]}", ""
        client.create_bucket(Bucket=bucket)
    else:
        bucket, prefix = s3_target.bucket, f"supportdesk-tests/{uuid.uuid4().hex}/"
    yield S3Location(client=client, bucket=bucket, prefix=prefix, part_size=s3_target.part_size)
    _empty(client, bucket, prefix)
    if s3_target.bucket is None:
        client.delete_bucket(Bucket=bucket)


def _empty(client: S3Client, bucket: str, prefix: str) -> None:
    uploads = client.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])
    for upload in uploads:
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
