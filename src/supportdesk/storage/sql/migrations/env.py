"""Alembic environment of the SQL store: runs the revisions on a given connection or URL."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from supportdesk.storage.sql._alembic import VERSION_TABLE
from supportdesk.storage.sql.dialects import is_search_machinery, make_engine
from supportdesk.storage.sql.schema import metadata


def _outside_search_machinery(name: str | None, _type: str, _parents: object) -> bool:
    # The full-text index is raw DDL that autogenerate cannot see in the metadata.
    return not is_search_machinery(name)


def _migrate(**options: Any) -> None:
    """Run the revisions against our schema and version table, as ``options`` say."""
    context.configure(target_metadata=metadata, version_table=VERSION_TABLE, **options)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    _migrate(
        connection=connection,
        # SQLite alters tables by copying them; later revisions need batch mode there.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=_outside_search_machinery,
    )


def _run_offline() -> None:
    _migrate(url=context.config.get_main_option("sqlalchemy.url"), literal_binds=True)


def _run_online() -> None:
    given = context.config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("give the migrations a connection or a sqlalchemy.url")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
