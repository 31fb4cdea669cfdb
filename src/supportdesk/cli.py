"""The ``supportdesk`` command: database administration from a shell."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import sqlalchemy as sa

from ._errors import StorageError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="supportdesk", description="Administer a supportdesk installation."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    db = commands.add_parser("db", help="manage the database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    upgrade = db_commands.add_parser(
        "upgrade",
        help="create the schema, or bring it to this version's revision",
        description="Create the schema in an empty database, or migrate it to the head "
        "revision; a database already at head is left as it is.",
    )
    upgrade.add_argument(
        "url", help="SQLAlchemy database URL: sqlite:///path or postgresql+psycopg://..."
    )
    upgrade.set_defaults(run=_db_upgrade)
    return parser


def _db_upgrade(arguments: argparse.Namespace) -> None:
    # Imported here so that commands without a database need no SQL driver.
    from .storage.sql import upgrade

    revision = upgrade(arguments.url)
    shown = sa.make_url(arguments.url).render_as_string(hide_password=True)
    print(f"{shown}: schema at revision {revision}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status.

    :returns: 0 on success, 1 when the database fails (the reason on stderr).
    """
    arguments = _parser().parse_args(argv)
    try:
        arguments.run(arguments)
    except StorageError as error:
        print(f"supportdesk: error: {error}", file=sys.stderr)
        return 1
    return 0
