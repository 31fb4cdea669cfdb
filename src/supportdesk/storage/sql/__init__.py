"""The SQL store on SQLAlchemy Core: SQLite and PostgreSQL, schema and migrations."""

from __future__ import annotations

from .dialects import make_engine as make_engine
from .migrate import current_revision as current_revision
from .migrate import head_revision as head_revision
from .migrate import require_head as require_head
from .migrate import upgrade as upgrade
from .schema import metadata as metadata
from .store import SqlStore as SqlStore
from .store import SqlUnitOfWork as SqlUnitOfWork

__all__ = [
    "SqlStore",
    "SqlUnitOfWork",
    "current_revision",
    "head_revision",
    "make_engine",
    "metadata",
    "require_head",
    "upgrade",
]
