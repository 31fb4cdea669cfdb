"""The shipped Alembic revisions create exactly the schema module's schema; the CLI runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from supportdesk import AttachmentLimits, Desk, StorageError
from supportdesk.cli import main
from supportdesk.storage.protocol import ContactQuery
from supportdesk.storage.sql import (
    SqlStore,
    current_revision,
    head_revision,
    make_engine,
    metadata,
    upgrade,
)
from supportdesk.storage.sql._alembic import VERSION_TABLE
from supportdesk.storage.sql.dialects import is_search_machinery
from supportdesk.storage.sql.migrate import alembic_config


def _compared(name: str | None, _type: str, _parents: object) -> bool:
    return not is_search_machinery(name)


def full_text_machinery(url: str) -> set[tuple[str, str]]:
    """The full-text tables, triggers and indexes in the database, as their DDL."""
    engine = make_engine(url)
    listing = {
        "sqlite": "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL",
        "postgresql": "SELECT indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema()",
    }[engine.dialect.name]
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(listing).all()
    finally:
        engine.dispose()
    return {
        (name, " ".join(sql.split()))
        for name, sql in rows
        if is_search_machinery(name) or name.startswith("search_fields_")
    }


def differences(url: str, **options: Any) -> list[Any]:
    """What autogenerate would change to make the database at ``url`` match the schema module."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            opts = {
                "compare_type": True,
                "include_name": _compared,
                "version_table": VERSION_TABLE,
                **options,
            }
            context = MigrationContext.configure(connection, opts=opts)
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with nothing in it: a new SQLite file, or a new Postgres schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    url: str = request.getfixturevalue("empty_postgres_schema")
    return url


def test_upgrade_creates_exactly_the_schema_module(empty_url: str) -> None:
    assert upgrade(empty_url) == head_revision()
    # SQLite cannot report identity columns, so defaults are compared on Postgres only.
    compare_defaults = empty_url.startswith("postgresql")
    assert differences(empty_url, compare_server_default=compare_defaults) == []


def test_upgrade_creates_the_full_text_index_of_the_schema_module(
    empty_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    upgrade(empty_url)
    migrated = full_text_machinery(empty_url)
    assert migrated
    if empty_url.startswith("sqlite"):
        created = f"sqlite:///{tmp_path / 'created.db'}"
    else:
        created = request.getfixturevalue("empty_postgres_schema")
    engine = make_engine(created)
    metadata.create_all(engine)
    engine.dispose()
    assert full_text_machinery(created) == migrated


def test_upgrade_twice_is_a_no_op(empty_url: str) -> None:
    upgrade(empty_url)
    desk = Desk(key="KEEP", name="Kept")
    store = SqlStore.from_url(empty_url)
    with store.unit_of_work() as work:
        work.desks.put_desk(desk)
    upgrade(store.engine)
    with store.unit_of_work() as work:
        assert work.desks.list_desks() == [desk]
    assert current_revision(store.engine) == head_revision()
    store.close()


def test_store_refuses_a_database_without_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    with pytest.raises(StorageError, match=r"run `supportdesk db upgrade sqlite:///.*new\.db`"):
        SqlStore.from_url(url)
    store = SqlStore.from_url(url, create=True)
    with store.unit_of_work() as work:
        assert work.desks.list_desks() == []
    store.close()
    SqlStore.from_url(url).close()


def test_upgrade_of_an_unreachable_database_is_a_storage_error() -> None:
    with pytest.raises(StorageError) as raised:
        upgrade("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert isinstance(raised.value.__cause__, sa.exc.OperationalError)


def test_python_m_supportdesk_db_upgrade(empty_url: str) -> None:
    environment = {**os.environ, "PYTHONWARNINGS": "error"}
    command = [sys.executable, "-m", "supportdesk", "db", "upgrade", empty_url]
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    assert done.returncode == 0, done.stderr
    assert f"schema at revision {head_revision()}" in done.stdout
    SqlStore.from_url(empty_url).close()


def test_cli_reports_a_failing_database(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["db", "upgrade", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none"])
    assert status == 1
    error = capsys.readouterr().err
    assert error.startswith("supportdesk: error: ")
    assert "secret" not in error


def test_cli_needs_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def _upgrade_to(url: str, revision: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
    finally:
        engine.dispose()


def test_a_desk_from_0001_upgrades_with_the_default_attachment_limits(empty_url: str) -> None:
    _upgrade_to(empty_url, "0001")
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        # The 0001 tables as they were: a desk and a request type that refers to it.
        connection.execute(
            sa.text(
                "INSERT INTO desks (id, key, name, description, share_with_organization, "
                "follow_up_policy, follow_up_window) "
                "VALUES ('old', 'OLD', 'Old desk', '', true, 'follow_up', NULL)"
            )
        )
        connection.execute(
            sa.text(
                'INSERT INTO request_types (id, desk_id, name, description, "group", '
                "description_required, fields, attachments) "
                "VALUES ('rt', 'old', 'General', '', NULL, false, '[]', 'optional')"
            )
        )
    engine.dispose()
    assert upgrade(empty_url) == head_revision()
    store = SqlStore.from_url(empty_url)
    with store.unit_of_work() as work:
        assert work.desks.list_desks() == [Desk(id="old", key="OLD", name="Old desk")]
        desk = work.desks.get_desk("old")
        assert desk is not None and desk.attachment_limits == AttachmentLimits()
        assert [t.name for t in work.desks.list_request_types("old")] == ["General"]
        # What 0002 adds works on the upgraded database.
        limits = AttachmentLimits(max_ticket_files=2)
        work.desks.put_desk(attrs.evolve(desk, attachment_limits=limits))
    with store.unit_of_work() as work:
        stored = work.desks.get_desk("old")
        assert stored is not None and stored.attachment_limits.max_ticket_files == 2
        listed = work.attachments.list_for_ticket(
            "none", include_internal=True, include_rejected=True
        )
        assert listed == []
    store.close()
    compare_defaults = empty_url.startswith("postgresql")
    assert differences(empty_url, compare_server_default=compare_defaults) == []


def test_0002_downgrades_to_0001_and_upgrades_again(empty_url: str) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0001")
    assert current_revision(engine) == "0001"
    assert "attachments" not in sa.inspect(engine).get_table_names()
    engine.dispose()
    upgrade(empty_url)
    assert differences(empty_url) == []


def test_desk_members_from_0002_are_found_after_0003(empty_url: str) -> None:
    _upgrade_to(empty_url, "0002")
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        # Contacts as 0002 stored them: the desks only in the JSON column.
        for contact_id, role, desk_ids in (
            ("agent", "agent", '["one", "two"]'),
            ("admin", "admin", '["two"]'),
            ("customer", "customer", "[]"),
        ):
            connection.execute(
                sa.text(
                    "INSERT INTO contacts (id, email, full_name, role, state, "
                    "organization_id, desk_ids) "
                    "VALUES (:id, :email, :name, :role, 'active', NULL, :desk_ids)"
                ),
                {
                    "id": contact_id,
                    "email": f"{contact_id}@x.test",
                    "name": contact_id,
                    "role": role,
                    "desk_ids": desk_ids,
                },
            )
    engine.dispose()
    assert upgrade(empty_url) == head_revision()
    store = SqlStore.from_url(empty_url)
    with store.unit_of_work() as work:
        assert [c.id for c in work.directory.find_contacts(ContactQuery(desk_id="one"))] == [
            "agent"
        ]
        assert [c.id for c in work.directory.find_contacts(ContactQuery(desk_id="two"))] == [
            "admin",
            "agent",
        ]
        agent = work.directory.get_contact("agent")
        assert agent is not None
        work.directory.put_contact(attrs.evolve(agent, desk_ids=frozenset({"one"})))
    with store.unit_of_work() as work:
        assert [c.id for c in work.directory.find_contacts(ContactQuery(desk_id="two"))] == [
            "admin"
        ]
    store.close()
    assert differences(empty_url) == []
