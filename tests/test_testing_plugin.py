"""The pytest plugin hosts get: its fixtures are there without any conftest."""

from __future__ import annotations

from datetime import timedelta

from supportdesk import Contact, Desk, FakeClock, RequestType, Submission, SupportDesk


def test_desk_reads_the_fake_clock(support_desk: SupportDesk, fake_clock: FakeClock) -> None:
    desk = support_desk.add_desk(Desk(key="HHA", name="Help"))
    general = support_desk.add_request_type(RequestType(desk_id=desk.id, name="General"))
    alice = support_desk.add_contact(Contact(email="alice@acme.test", full_name="Alice"))
    fake_clock.advance(timedelta(days=2))
    ticket = support_desk.open_ticket(alice, general.id, Submission(summary="Help"))
    assert ticket.created_at == fake_clock.now()
