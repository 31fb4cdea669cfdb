"""A database shared with the host: its Alembic history and ours never see each other."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from supportdesk import Contact, MemoryBlobStore, SupportDesk
from supportdesk.cli import main
from supportdesk.storage.sql import current_revision, head_revision, make_engine, upgrade
from supportdesk.storage.sql._alembic import LEGACY_VERSION_TABLE, VERSION_TABLE

HOST_ENV = """
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
engine = engine_from_config(
    config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""

HOST_REVISION = '''
"""The host's first revision: its own orders and contacts tables."""
import sqlalchemy as sa
from alembic import op

revision = "host0001"
down_revision = None


def upgrade():
    op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table("host_contacts", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("host_contacts")
    op.drop_table("orders")
'''


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database the host and the library will share."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    url: str = request.getfixturevalue("empty_postgres_schema")
    return url


def _host_config(tmp_path: Path, url: str) -> Config:
    """The host's own Alembic environment, with Alembic's default version table."""
    scripts = tmp_path / "host_migrations"
    (scripts / "versions").mkdir(parents=True, exist_ok=True)
    (scripts / "env.py").write_text(HOST_ENV)
    (scripts / "script.py.mako").write_text("")
    (scripts / "versions" / "host0001_orders.py").write_text(HOST_REVISION)
    config = Config()
    config.set_main_option("script_location", str(scripts))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _host_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("host_first", [True, False], ids=["host-first", "library-first"])
def test_host_and_library_migrate_one_database_in_either_order(
    shared_url: str, tmp_path: Path, host_first: bool
) -> None:
    host = _host_config(tmp_path, shared_url)
    steps = [lambda: command.upgrade(host, "head"), lambda: upgrade(shared_url)]
    for step in steps if host_first else steps[::-1]:
        step()
    for step in steps:  # Each side's next upgrade finds its own history, and nothing to do.
        step()

    assert _host_revision(shared_url) == "host0001"
    engine = make_engine(shared_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    assert {"orders", "host_contacts", "contacts", LEGACY_VERSION_TABLE, VERSION_TABLE} <= (
        _tables(shared_url)
    )
    desk = SupportDesk.from_url(shared_url, blob_store=MemoryBlobStore())
    desk.add_contact(Contact(email="alice@acme.test", full_name="Alice"))
    desk.dispose()


def test_a_database_of_version_0_1_has_its_revision_moved_out_of_alembic_version(
    shared_url: str,
) -> None:
    upgrade(shared_url)
    engine = make_engine(shared_url)
    try:
        with engine.begin() as connection:  # What 0.1 left: our revision in Alembic's table.
            connection.execute(sa.text(f"DROP TABLE {VERSION_TABLE}"))
            connection.execute(
                sa.text(
                    f"CREATE TABLE {LEGACY_VERSION_TABLE} "
                    "(version_num VARCHAR(32) NOT NULL PRIMARY KEY)"
                )
            )
            connection.execute(
                sa.text(f"INSERT INTO {LEGACY_VERSION_TABLE} VALUES (:head)"),
                {"head": head_revision()},
            )
        assert current_revision(engine) is None
    finally:
        engine.dispose()

    assert upgrade(shared_url) == head_revision()

    tables = _tables(shared_url)
    assert VERSION_TABLE in tables and LEGACY_VERSION_TABLE not in tables
    assert main(["db", "upgrade", shared_url]) == 0


@pytest.fixture
def library_schema(postgres_admin: sa.Engine) -> Iterator[str]:
    """A name for the library's own schema, dropped afterwards."""
    name = f"sd_lib_{uuid.uuid4().hex[:8]}"
    yield name
    with postgres_admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


@pytest.mark.postgres
def test_postgres_keeps_the_library_in_a_schema_of_its_own(
    empty_postgres_schema: str, library_schema: str, tmp_path: Path
) -> None:
    host = _host_config(tmp_path, empty_postgres_schema)
    command.upgrade(host, "head")
    assert main(["db", "upgrade", empty_postgres_schema, "--schema", library_schema]) == 0

    desk = SupportDesk.from_url(
        empty_postgres_schema, schema=library_schema, blob_store=MemoryBlobStore()
    )
    alice = desk.add_contact(Contact(email="alice@acme.test", full_name="Alice"))
    assert desk.find_contact("alice@acme.test") == alice
    desk.dispose()

    assert _tables(empty_postgres_schema) == {"orders", "host_contacts", LEGACY_VERSION_TABLE}
    engine = make_engine(empty_postgres_schema, schema=library_schema)
    try:
        assert {"contacts", "tickets", VERSION_TABLE} <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("schema", ["Bad-Name", "x; DROP TABLE orders", ""])
def test_a_schema_name_must_be_a_plain_identifier(schema: str) -> None:
    with pytest.raises(ValueError, match="identifier"):
        make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", schema=schema)


def test_sqlite_has_no_schemas(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="database of its own"):
        make_engine(f"sqlite:///{tmp_path / 'x.db'}", schema="supportdesk")
