"""Alembic, imported and run without its INFO lines landing in the host's log.

Alembic logs one INFO line per plugin when it is imported and one per step
when it migrates.  A host that wants them sets a level on the ``alembic``
logger itself; that level is then left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_alembic() -> Iterator[None]:
    """Hold the ``alembic`` logger at WARNING for the block, unless the host set its level."""
    logger = logging.getLogger("alembic")
    if logger.level != logging.NOTSET:
        yield
        return
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(logging.NOTSET)


VERSION_TABLE = "supportdesk_alembic_version"
"""Where the library records its schema revision: never Alembic's default table, which a host's
own migrations use."""

LEGACY_VERSION_TABLE = "alembic_version"
"""Where supportdesk 0.1 recorded it; :func:`~.migrate.upgrade` moves it out."""


with quiet_alembic():
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

__all__ = [
    "LEGACY_VERSION_TABLE",
    "VERSION_TABLE",
    "CommandError",
    "Config",
    "MigrationContext",
    "ScriptDirectory",
    "command",
    "quiet_alembic",
]
