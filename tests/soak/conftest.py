"""Fixtures of the soak: settings, a Postgres schema, moto's S3 server, the Postgres fault."""

from __future__ import annotations

import ipaddress
import os
import shlex
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from supportdesk.storage.sql import upgrade

from ..moto_server import start_moto, stop_moto
from .driver import PgFault
from .scenario import APPLICATION_NAME, Settings
from .worker import PART_SIZE, S3Config, s3_client


def _unavailable(message: str) -> None:
    # On CI a skipped soak would pass unnoticed.
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def soak_settings() -> Settings:
    return Settings.from_env()


@pytest.fixture
def soak_url(empty_postgres_schema: str) -> str:
    """A fresh schema at the head revision; the workers' connections carry the soak's name."""
    upgrade(empty_postgres_schema)
    return (
        sa.make_url(empty_postgres_schema)
        .update_query_dict({"application_name": APPLICATION_NAME})
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 server on loopback, in a process of its own."""
    try:
        import boto3  # noqa: F401
        import moto.server  # noqa: F401
    except ImportError as error:
        _unavailable(f"the soak needs boto3 and moto[server]: {error}")
    process, port = start_moto(tmp_path_factory.mktemp("moto") / "server.log", PART_SIZE)
    yield f"http://127.0.0.1:{port}"
    stop_moto(process)


@pytest.fixture
def soak_s3(moto_endpoint: str) -> S3Config:
    """A fresh bucket on the moto server."""
    bucket = f"soak-{uuid.uuid4().hex[:16]}"
    s3_client(moto_endpoint).create_bucket(Bucket=bucket)
    return S3Config(endpoint_url=moto_endpoint, bucket=bucket)


def _restart_command(url: str) -> tuple[list[str] | None, str]:
    """The command that restarts the server at ``url``, or None and why there is none."""
    if command := os.environ.get("SUPPORTDESK_SOAK_RESTART_COMMAND"):
        return shlex.split(command), ""
    host = sa.make_url(url).host or "localhost"
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    clusters = Path("/etc/postgresql")
    versions = sorted(p.name for p in clusters.iterdir()) if clusters.is_dir() else []
    if not local or len(versions) != 1 or shutil.which("pg_ctlcluster") is None:
        return None, (
            f"no local cluster to restart for {host} (set SUPPORTDESK_SOAK_RESTART_COMMAND)"
        )
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main", "restart"], ""


@pytest.fixture
def pg_fault(soak_settings: Settings, soak_url: str) -> PgFault:
    """Restart PostgreSQL, or end the soak's connections when asked to (or unable to restart).

    Under ``CI=true`` a restart that is not possible fails the soak rather than
    falling back.
    """
    if soak_settings.pg_fault == "terminate":
        return PgFault("terminate", soak_url, None, "as asked, the soak's connections only")
    command, why = _restart_command(soak_url)
    if command is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the soak cannot restart PostgreSQL: {why}")
        return PgFault("terminate", soak_url, None, f"cannot restart: {why}")
    return PgFault("restart", soak_url, command)
