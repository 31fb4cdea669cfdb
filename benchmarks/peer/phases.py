"""The peer's phases, through django-helpdesk 2.6.1's own code paths; run by the peer's Python.

``python benchmarks/peer/phases.py --count N --database FILE`` prints one JSON
object: operations per second of each phase.  Its e-mails are built inline, as
django-helpdesk does, into Django's in-memory mail box.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _setup(database: str) -> None:
    os.environ["PEER_DATABASE"] = database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.peer.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else 0.0


def run(count: int) -> dict[str, float]:
    """Each phase ``count`` times; operations per second by phase."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone
    from helpdesk.forms import PublicTicketForm
    from helpdesk.models import Queue, Ticket
    from helpdesk.update_ticket import update_ticket

    queue = Queue.objects.create(
        title="Help", slug="help", allow_public_submission=True, escalate_days=1
    )
    agent = get_user_model().objects.create_user("agent", "agent@portal.test", "x", is_staff=True)
    rates: dict[str, float] = {}

    started = time.perf_counter()
    tickets = []
    for n in range(count):
        form = PublicTicketForm(
            data={
                "title": f"Portal missing data {n}",
                "body": "Claims from May are missing.",
                "submitter_email": "alice@acme.test",
            }
        )
        assert form.is_valid(), form.errors
        tickets.append(form.save(user=None))
    rates["open ticket"] = _rate(count, time.perf_counter() - started)

    started = time.perf_counter()
    for ticket in tickets:
        update_ticket(agent, ticket, comment="More details, please.", public=True)
    rates["public update"] = _rate(count, time.perf_counter() - started)

    started = time.perf_counter()
    for ticket in tickets:
        update_ticket(
            agent, ticket, comment="Which claims?", public=True, new_status=Ticket.RESOLVED_STATUS
        )
    rates["status change"] = _rate(count, time.perf_counter() - started)

    # Open tickets whose queue's escalation is due: one sweep escalates each.
    Ticket.objects.filter(queue=queue).update(
        status=Ticket.OPEN_STATUS, created=timezone.now() - timedelta(days=3), last_escalation=None
    )
    started = time.perf_counter()
    call_command("escalate_tickets")
    rates["timer sweep, per ticket"] = _rate(count, time.perf_counter() - started)
    assert Ticket.objects.filter(last_escalation__isnull=False).count() == count

    started = time.perf_counter()
    for _ in range(count):
        mine = Ticket.objects.filter(submitter_email="alice@acme.test")
        page: list[Any] = list(mine.order_by("-created")[:25])
        assert page and mine.count() == count
    rates["first page and count: created by me"] = _rate(count, time.perf_counter() - started)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--database", required=True)
    args = parser.parse_args()
    _setup(args.database)
    print(json.dumps(run(args.count)))


if __name__ == "__main__":
    main()
