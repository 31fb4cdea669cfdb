"""The ``supportdesk`` command: database administration and the timer sweep, from a shell."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import sqlalchemy as sa

from ._errors import StorageError
from ._version import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="supportdesk", description="Administer a supportdesk installation."
    )
    parser.add_argument("--version", action="version", version=f"supportdesk {__version__}")
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
    timers = commands.add_parser("timers", help="run the workflow's due timers")
    timer_commands = timers.add_subparsers(dest="timers_command", required=True, metavar="COMMAND")
    sweep = timer_commands.add_parser(
        "run",
        help="fire every timer due now, oldest first, and say what was done",
        description="Fire the due reminders and automatic transitions once; run it from cron "
        "or a loop. Several may run at once on Postgres.",
    )
    sweep.add_argument("url", help="SQLAlchemy database URL")
    sweep.add_argument("--batch-size", type=int, default=100, help="timers per transaction")
    sweep.set_defaults(run=_timers_run)
    return parser


def _db_upgrade(arguments: argparse.Namespace) -> None:
    # Imported here so that commands without a database need no SQL driver.
    from .storage.sql import upgrade

    revision = upgrade(arguments.url)
    shown = sa.make_url(arguments.url).render_as_string(hide_password=True)
    print(f"{shown}: schema at revision {revision}")


def _timers_run(arguments: argparse.Namespace) -> None:
    from .desk import SupportDesk
    from .storage.sql import SqlStore

    # Timers never touch attachment bytes, so the desk's default blob store is fine here.
    desk = SupportDesk(SqlStore.from_url(arguments.url))
    try:
        report = desk.run_due_timers(batch_size=arguments.batch_size)
        due = desk.next_timer_due()
    finally:
        desk.dispose()
    following = due.isoformat() if due else "none pending"
    print(f"fired {report.fired}, skipped {report.skipped}; next due: {following}")


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
