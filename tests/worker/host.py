"""A host's desk factory and notification handler, as `supportdesk worker --desk` loads them.

The worker processes of the tests import this module by name; what the
factory needs comes from environment variables, and the handler's pauses
from events a test sets before it calls the command line.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from multiprocessing.synchronize import Event as ProcessEvent

from supportdesk import Event, FakeClock, MemoryBlobStore, SupportDesk

URL = "SUPPORTDESK_WORKER_URL"
"""The database of the desk the factory builds."""
OUT = "SUPPORTDESK_WORKER_OUT"
"""A file the handler appends each delivered event id to, one per line."""
LATER = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
"""The desk's time: every timer of a ticket opened in 2026 is due by then."""

paused: tuple[ProcessEvent, ProcessEvent] | None = None
"""(started, release): the handler says it started, then waits to be released."""


def make_desk() -> SupportDesk:
    """The host's desk: its database, a clock at :data:`LATER` (attachments play no part)."""
    return SupportDesk.from_url(
        os.environ[URL], clock=FakeClock(LATER), blob_store=MemoryBlobStore()
    )


def record(event: Event) -> None:
    """Deliver by writing the event id down; with :data:`paused`, first wait to be released."""
    if paused is not None:
        started, release = paused
        started.set()
        if not release.wait(timeout=60):
            raise RuntimeError("the test never released the handler")
    with open(os.environ[OUT], "a", encoding="utf-8") as out:
        out.write(f"{event.id}\n")


def run_worker(
    url: str,
    out: str,
    argv: list[str],
    pause: tuple[ProcessEvent, ProcessEvent] | None = None,
) -> None:
    """A worker process: the command line ``argv`` on this module's desk and handler."""
    from supportdesk.cli import main

    global paused
    os.environ[URL], os.environ[OUT] = url, out
    paused = pause
    raise SystemExit(main(argv))
