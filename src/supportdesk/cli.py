"""The ``supportdesk`` command: database administration, the timer sweep and the worker."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import cast

import sqlalchemy as sa

from ._errors import StorageError
from ._version import __version__
from .desk import SupportDesk
from .notifications import NotificationHandler
from .worker import Worker, log


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
    upgrade.add_argument(
        "--schema",
        help="Postgres: keep the library's tables in this schema (created if missing)",
    )
    upgrade.set_defaults(run=_db_upgrade)
    timers = commands.add_parser("timers", help="run the workflow's due timers")
    timer_commands = timers.add_subparsers(dest="timers_command", required=True, metavar="COMMAND")
    sweep = timer_commands.add_parser(
        "run",
        help="fire every timer due now, oldest first, and say what was done",
        description="Fire the due reminders and automatic transitions once; run it from cron "
        "or a loop. Several may run at once on Postgres. Give --desk so that your "
        "workflows and calendars are used; a bare URL runs the default workflow.",
    )
    _desk_arguments(sweep, url=True)
    sweep.set_defaults(run=_timers_run)
    worker = commands.add_parser(
        "worker",
        help="run due timers, notifications, attachment scans and orphan-blob sweeps in a loop",
        description="Load your desk from a factory and keep its background work moving until "
        "SIGTERM or SIGINT, which stop it after the current batch. Several may run at once on "
        "Postgres.",
    )
    _desk_arguments(worker, url=False)
    worker.add_argument(
        "--handler",
        metavar="MODULE:NAME",
        help="the notification handler (a callable taking an Event); without one, "
        "notifications stay in the outbox",
    )
    worker.add_argument(
        "--idle-wait",
        type=_positive_seconds,
        default=5.0,
        metavar="SECONDS",
        help="the longest wait between passes when idle (default 5)",
    )
    worker.add_argument(
        "--once", action="store_true", help="one pass over everything due, then exit"
    )
    worker.set_defaults(run=_worker)
    return parser


def _db_upgrade(arguments: argparse.Namespace) -> None:
    # Imported here so that commands without a database need no SQL driver.
    from .storage.sql import upgrade

    try:
        revision = upgrade(arguments.url, schema=arguments.schema)
    except ValueError as error:
        raise _UsageError(str(error)) from error
    shown = sa.make_url(arguments.url).render_as_string(hide_password=True)
    print(f"{shown}: schema at revision {revision}")


def _desk_arguments(parser: argparse.ArgumentParser, *, url: bool) -> None:
    where = parser.add_mutually_exclusive_group(required=True) if url else parser
    if url:
        where.add_argument(
            "url", nargs="?", help="SQLAlchemy database URL (the default workflow and calendar)"
        )
    where.add_argument(
        "--desk",
        metavar="MODULE:NAME",
        required=not url,
        help="your SupportDesk, or a function that returns it (myportal.desk:make_desk)",
    )
    parser.add_argument(
        "--batch-size",
        type=_positive_int,
        default=100,
        help="timers, events or files per transaction (default 100)",
    )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return value


def _load(target: str, what: str) -> object:
    """The object ``module:name`` names (``name`` may be dotted)."""
    module_name, colon, attribute = target.partition(":")
    if not colon or not module_name or not attribute:
        raise _UsageError(f"{what} must look like package.module:name, not {target!r}")
    try:
        found: object = importlib.import_module(module_name)
    except ImportError as error:
        raise _UsageError(f"cannot import {module_name!r} for {what}: {error}") from error
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise _UsageError(f"{module_name!r} has no {attribute!r} for {what}")
        found = getattr(found, part)
    return found


def _desk(arguments: argparse.Namespace) -> SupportDesk:
    from .storage.sql import SqlStore

    if arguments.desk is None:
        # Timers never touch attachment bytes, so the desk's default blob store is fine here.
        return SupportDesk(SqlStore.from_url(arguments.url))
    found = _load(arguments.desk, "--desk")
    desk = found if isinstance(found, SupportDesk) or not callable(found) else found()
    if not isinstance(desk, SupportDesk):
        raise _UsageError(f"--desk {arguments.desk} is not a SupportDesk nor returns one")
    return desk


def _timers_run(arguments: argparse.Namespace) -> None:
    desk = _desk(arguments)
    try:
        report = desk.run_due_timers(batch_size=arguments.batch_size)
        due = desk.next_timer_due()
    finally:
        desk.dispose()
    following = due.isoformat() if due else "none pending"
    print(f"fired {report.fired}, skipped {report.skipped}; next due: {following}")


def _worker(arguments: argparse.Namespace) -> None:
    handler: NotificationHandler | None = None
    if arguments.handler is not None:
        loaded = _load(arguments.handler, "--handler")
        if not callable(loaded):
            raise _UsageError(f"--handler {arguments.handler} is not callable")
        handler = cast(NotificationHandler, loaded)
    desk = _desk(arguments)
    worker = Worker(
        desk,
        handler=handler,
        batch_size=arguments.batch_size,
        idle_wait=timedelta(seconds=arguments.idle_wait),
    )
    stop = threading.Event()

    def on_signal(number: int, frame: object) -> None:
        del frame
        log.info(
            "worker: %s received, stopping after the current batch", signal.Signals(number).name
        )
        stop.set()

    previous = {number: signal.signal(number, on_signal) for number in _STOP_SIGNALS}
    try:
        if arguments.once:
            worker.run_once(stop)
        else:
            worker.run(stop)
    finally:
        for number, handling in previous.items():
            signal.signal(number, handling)
        desk.dispose()


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class _UsageError(Exception):
    """A command line that names something that is not there."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status.

    :returns: 0 on success, 1 when the database fails (the reason on stderr).
    """
    arguments = _parser().parse_args(argv)
    try:
        arguments.run(arguments)
    except (StorageError, _UsageError) as error:
        print(f"supportdesk: error: {error}", file=sys.stderr)
        return 1
    return 0
