"""The pytest plugin hosts get: its fixtures are there without any conftest."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supportdesk import Contact, Desk, FakeClock, RequestType, Submission, SupportDesk


def test_desk_reads_the_fake_clock(
    supportdesk_desk: SupportDesk, supportdesk_clock: FakeClock
) -> None:
    desk = supportdesk_desk.add_desk(Desk(key="HHA", name="Help"))
    general = supportdesk_desk.add_request_type(RequestType(desk_id=desk.id, name="General"))
    alice = supportdesk_desk.add_contact(Contact(email="alice@acme.test", full_name="Alice"))
    supportdesk_clock.advance(timedelta(days=2))
    ticket = supportdesk_desk.open_ticket(alice, general.id, Submission(summary="Help"))
    assert ticket.created_at == supportdesk_clock.now()


@pytest.mark.parametrize(
    ("old", "new"), [("fake_clock", "supportdesk_clock"), ("support_desk", "supportdesk_desk")]
)
def test_the_old_fixture_names_still_work_and_warn(
    request: pytest.FixtureRequest, old: str, new: str
) -> None:
    with pytest.warns(DeprecationWarning, match=new):
        value = request.getfixturevalue(old)
    assert value is request.getfixturevalue(new)
