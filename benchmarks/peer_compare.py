"""The library beside its peer, django-helpdesk 2.6.1, in one run: the same work, round by round.

``python benchmarks/peer_compare.py --peer-python PATH [--rounds 3] [--count 200]``

Each round runs the library's phases on a fresh SQLite file, then the peer's
(``benchmarks/peer/phases.py``, in the peer's own virtual environment) on
another, both in WAL mode with ``synchronous=NORMAL``.  Where the peer
builds its e-mails inline, the library's phase includes dispatching its
events to a handler that builds the same kind of MIME message, so both sides
do the same work.  The table shows the median of the rounds, the ratio, and
each target's verdict (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate
from html import escape
from pathlib import Path

from supportdesk import (
    Contact,
    Desk,
    Event,
    FakeClock,
    RequestType,
    Role,
    Submission,
    SupportDesk,
    TicketList,
    thread_headers,
)

HERE = Path(__file__).resolve().parent
TARGETS = {
    "open ticket": 10.0,
    "public update": 10.0,
    "status change": 10.0,
    "timer sweep, per ticket": 20.0,
    "first page and count: created by me": None,
}
"""The ratio each phase must reach over the peer (None: measured, no ratio target)."""


def mime(event: Event) -> None:
    """Build each recipient's message as django-helpdesk does, and drop it.

    The same message as the peer's: multipart/alternative with a text and an
    HTML part rendered from the event, Subject, From, To, Date, Message-ID (and
    the thread's In-Reply-To and References), built with the stdlib's
    ``email.mime`` classes as Django's ``EmailMultiAlternatives.message()``
    does.  Like the peer's in-memory mail backend, which only calls
    ``message()``, nothing is serialised.
    """
    reference = event.payload.get("reference", "")
    details = "\n".join(f"{key}: {value}" for key, value in event.payload.items())
    text = TEXT_BODY.format(kind=event.kind.value, reference=reference, details=details)
    html = HTML_BODY.format(
        kind=escape(event.kind.value), reference=escape(reference), details=escape(details)
    )
    for index, recipient in enumerate(event.recipients):
        message = MIMEMultipart("alternative")
        message.attach(MIMEText(text, "plain", "utf-8"))
        message.attach(MIMEText(html, "html", "utf-8"))
        message["Subject"] = f"[{reference}] {event.kind.value}"
        message["From"] = "help@portal.test"
        message["To"] = recipient.email
        message["Date"] = formatdate()
        for name, value in thread_headers(event, index, domain="portal.test").items():
            message[name] = value


TEXT_BODY = "Hello,\n\n{kind} on {reference}.\n\n{details}\n\n-- \nThe help desk\n"
HTML_BODY = "<html><body><h1>{kind}</h1><p>{reference}</p><pre>{details}</pre></body></html>"


def library(count: int, folder: Path) -> dict[str, float]:
    """The library's phases on a fresh SQLite file; operations per second by phase."""
    clock = FakeClock()
    desk = SupportDesk.from_url(f"sqlite:///{folder / 'library.db'}", create=True, clock=clock)
    try:
        return _phases(desk, clock, count)
    finally:
        desk.dispose()


def _phases(desk: SupportDesk, clock: FakeClock, count: int) -> dict[str, float]:
    help_desk = desk.add_desk(Desk(key="HHA", name="Help"))
    general = desk.add_request_type(RequestType(desk_id=help_desk.id, name="General"))
    alice = desk.add_contact(Contact(email="alice@acme.test", full_name="Alice"))
    agent = desk.add_contact(
        Contact(
            email="agent@portal.test",
            full_name="Agent",
            role=Role.AGENT,
            desk_ids=frozenset({help_desk.id}),
        )
    )
    submission = Submission(summary="Portal missing data", description="Claims are missing.")
    references: list[str] = []

    def timed(action: Callable[[int], object]) -> float:
        started = time.perf_counter()
        for n in range(count):
            action(n)
            desk.dispatch_notifications(mime)
        return count / (time.perf_counter() - started)

    rates = {
        "open ticket": timed(
            lambda n: references.append(desk.open_ticket(alice, general.id, submission).reference)
        ),
        "public update": timed(
            lambda n: desk.share_update(agent, references[n], "More details, please.")
        ),
        "status change": timed(lambda n: desk.ask_customer(agent, references[n], "Which claims?")),
    }
    clock.advance(timedelta(days=1, hours=1))  # each ticket's first reminder is due
    started = time.perf_counter()
    fired = desk.run_due_timers().fired
    desk.dispatch_notifications(mime, limit=10 * count)
    rates["timer sweep, per ticket"] = fired / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(count):
        page = desk.list_tickets(alice, TicketList.CREATED_BY_ME)
        assert page.tickets and page.total == count
    rates["first page and count: created by me"] = count / (time.perf_counter() - started)
    return rates


def peer(python: str, count: int, folder: Path) -> dict[str, float]:
    """The peer's phases in its own interpreter; operations per second by phase."""
    done = subprocess.run(  # noqa: S603 (our own script, in the peer's venv)
        [
            python,
            str(HERE / "peer" / "phases.py"),
            "--count",
            str(count),
            "--database",
            str(folder / "peer.db"),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    rates: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--peer-python", required=True, help="the peer's virtual environment's python"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    rounds: list[tuple[dict[str, float], dict[str, float]]] = []
    for n in range(args.rounds):
        with tempfile.TemporaryDirectory() as folder:
            mine = library(args.count, Path(folder))
            theirs = peer(args.peer_python, args.count, Path(folder))
        rounds.append((mine, theirs))
        print(f"round {n + 1} of {args.rounds} done", file=sys.stderr)
    table = []
    for phase, target in TARGETS.items():
        ours = statistics.median(r[0][phase] for r in rounds)
        theirs = statistics.median(r[1][phase] for r in rounds)
        ratio = statistics.median(r[0][phase] / r[1][phase] for r in rounds)
        verdict = (
            "-" if target is None else ("met" if ratio >= target else f"NOT MET (<{target:g}x)")
        )
        table.append(
            {"phase": phase, "library": ours, "peer": theirs, "ratio": ratio, "verdict": verdict}
        )
    print(f"{'phase':<38} {'library/s':>10} {'peer/s':>10} {'ratio':>7}  verdict")
    for row in table:
        print(
            f"{row['phase']:<38} {row['library']:>10,.0f} {row['peer']:>10,.0f} "
            f"{row['ratio']:>6.2f}x  {row['verdict']}"
        )
    if args.out:
        args.out.write_text(
            json.dumps({"rounds": args.rounds, "count": args.count, "phases": table}, indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
