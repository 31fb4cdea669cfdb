"""Schema migrations: run the Alembic revisions shipped in the package, check the head."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..._errors import StorageError
from ._alembic import (
    LEGACY_VERSION_TABLE,
    VERSION_TABLE,
    CommandError,
    Config,
    MigrationContext,
    ScriptDirectory,
    command,
    quiet_alembic,
)
from ._transaction import translated_errors
from .dialects import check_schema_name, make_engine

SCRIPT_LOCATION = Path(__file__).with_name("migrations")
"""Where the Alembic environment and revisions live, inside the package."""


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic configuration for the shipped revisions, built without an ini file.

    With ``connection``, migrations run on it, inside its transaction;
    otherwise on ``url``.
    """
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision the schema module corresponds to."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships at least one revision"
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision, or None for a database the migrations never ran on."""
    with translated_errors(), engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


@contextmanager
def _engine_for(target: str | sa.URL | Engine, schema: str | None) -> Iterator[Engine]:
    if isinstance(target, Engine):
        yield target
        return
    engine = make_engine(target, schema=schema)
    try:
        yield engine
    finally:
        engine.dispose()


def upgrade(target: str | sa.URL | Engine, *, schema: str | None = None) -> str:
    """Bring the database's schema to the head revision; at head already, do nothing.

    The revision is kept in a table of the library's own
    (``supportdesk_alembic_version``), so a host's Alembic history in the
    same database is never touched; a database migrated by supportdesk 0.1
    has its revision moved there from Alembic's default table.

    :param target: a database URL, or an engine (which stays open).
    :param schema: Postgres: keep every table in this schema (created if
        missing), apart from the host's; see :func:`make_engine`.
    :returns: the head revision.
    :raises StorageError: when the database fails or holds an unknown revision.
    """
    with (
        quiet_alembic(),
        _engine_for(target, schema) as engine,
        translated_errors(),
        engine.begin() as connection,
    ):
        if schema is not None:
            name = check_schema_name(schema)
            connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{name}"'))
        _adopt_legacy_revision(connection)
        try:
            command.upgrade(alembic_config(connection), "head")
        except CommandError as error:
            raise StorageError(f"cannot upgrade the schema: {error}") from error
    return head_revision()


def _adopt_legacy_revision(connection: Connection) -> None:
    """Move a revision of ours out of Alembic's default version table, which hosts use too."""
    inspector = sa.inspect(connection)
    if inspector.has_table(VERSION_TABLE) or not inspector.has_table(LEGACY_VERSION_TABLE):
        return
    legacy = sa.table(LEGACY_VERSION_TABLE, sa.column("version_num"))
    scripts = ScriptDirectory.from_config(alembic_config())
    ours = {script.revision for script in scripts.walk_revisions()}
    found = connection.execute(sa.select(legacy.c.version_num)).scalars().all()
    mine = [revision for revision in found if revision in ours]
    if not mine:
        return  # The host's own history: not ours to touch.
    command.stamp(alembic_config(connection), mine[0])
    connection.execute(legacy.delete().where(legacy.c.version_num.in_(mine)))
    if len(mine) == len(found):
        connection.execute(sa.text(f"DROP TABLE {LEGACY_VERSION_TABLE}"))


def require_head(engine: Engine) -> None:
    """Check that the database's schema is at the head revision.

    :raises StorageError: telling to run ``supportdesk db upgrade URL`` when it is not.
    """
    current, head = current_revision(engine), head_revision()
    if current != head:
        url = engine.url.render_as_string(hide_password=True)
        found = "no supportdesk schema" if current is None else f"schema revision {current}"
        raise StorageError(
            f"{url} has {found}, supportdesk needs revision {head}: "
            f"run `supportdesk db upgrade {url}`, or open the store with create=True"
        )
