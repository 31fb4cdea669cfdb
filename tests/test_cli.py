"""The supportdesk command: the timer sweep from a shell, and errors as exit status 1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from supportdesk import Contact, Desk, FakeClock, RequestType, Role, Submission, SupportDesk
from supportdesk.cli import main


def test_timers_run_fires_what_is_due(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    # The ticket waits since long ago: the command's real clock finds its timers due.
    clock = FakeClock(datetime(2020, 1, 6, 9, 0, tzinfo=UTC))
    desk = SupportDesk.from_url(url, create=True, clock=clock)
    help_desk = desk.add_desk(Desk(key="HHA", name="Help"))
    general = desk.add_request_type(RequestType(desk_id=help_desk.id, name="General"))
    alice = desk.add_contact(Contact(email="alice@acme.test", full_name="Alice"))
    agent = desk.add_contact(
        Contact(
            email="a@desk.test", full_name="A", role=Role.AGENT, desk_ids=frozenset({help_desk.id})
        )
    )
    ticket = desk.open_ticket(alice, general.id, Submission(summary="Help"))
    desk.ask_customer(agent, ticket.reference, "Which claims?")
    desk.dispose()

    assert main(["timers", "run", url]) == 0
    out = capsys.readouterr().out
    # Three reminders are stale behind the auto-resolve; then resolved waits 3 days.
    assert out.startswith("fired 1, skipped 3; next due: ")
    again = SupportDesk.from_url(url, clock=clock)
    assert again.get_ticket(alice, ticket.reference).status == "resolved"
    # The resolved status's timers count from when the command ran, years later.
    due = again.next_timer_due()
    assert due is not None
    assert due > clock.now() + timedelta(days=365)
    again.dispose()


def test_database_errors_are_exit_status_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["timers", "run", f"sqlite:///{tmp_path / 'never-migrated.db'}"]) == 1
    assert "supportdesk db upgrade" in capsys.readouterr().err
