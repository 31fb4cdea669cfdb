"""Schema migrations: run the Alembic revisions shipped in the package, check the head."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..._errors import StorageError
from ._alembic import (
    CommandError,
    Config,
    MigrationContext,
    ScriptDirectory,
    command,
    quiet_alembic,
)
from ._transaction import translated_errors
from .dialects import make_engine

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
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _engine_for(target: str | sa.URL | Engine) -> Iterator[Engine]:
    if isinstance(target, Engine):
        yield target
        return
    engine = make_engine(target)
    try:
        yield engine
    finally:
        engine.dispose()


def upgrade(target: str | sa.URL | Engine) -> str:
    """Bring the database's schema to the head revision; at head already, do nothing.

    :param target: a database URL, or an engine (which stays open).
    :returns: the head revision.
    :raises StorageError: when the database fails or holds an unknown revision.
    """
    with (
        quiet_alembic(),
        _engine_for(target) as engine,
        translated_errors(),
        engine.begin() as connection,
    ):
        try:
            command.upgrade(alembic_config(connection), "head")
        except CommandError as error:
            raise StorageError(f"cannot upgrade the schema: {error}") from error
    return head_revision()


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
