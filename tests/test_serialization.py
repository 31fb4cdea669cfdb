"""Every model survives the trip to plain JSON data and back."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from supportdesk import (
    Activity,
    ActivityEntry,
    ActivityKind,
    Collaborator,
    Contact,
    Desk,
    Event,
    EventKind,
    FieldKind,
    FieldSpec,
    NotificationSettings,
    Organization,
    Priority,
    RequestType,
    Role,
    Ticket,
    TicketRow,
    Timer,
    ValidationError,
    from_data,
    to_data,
)

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

MODELS = [
    Organization(name="Acme"),
    Contact(email="A@acme.test", full_name="A", role=Role.AGENT, desk_ids=frozenset({"d1", "d2"})),
    Desk(key="HHA", name="Help", follow_up_window=timedelta(days=7, hours=3)),
    RequestType(
        desk_id="d1",
        name="Provider Request",
        group="I am a Provider",
        fields=(
            FieldSpec(key="state", label="State", kind=FieldKind.CHOICE, options=("NY", "CA")),
            FieldSpec(
                key="count", label="Count", kind=FieldKind.NUMBER, min_value=0, max_value=9.5
            ),
        ),
    ),
    Ticket(
        reference="HHA-13782",
        desk_id="d1",
        request_type_id="rt",
        summary="Missing data",
        fields={
            "state": "NY",
            "count": 3,
            "ratio": 0.5,
            "urgent": True,
            "due": date(2026, 4, 1),
            "looks_like_a_date": "2026-04-01",
            "tags": ("a", "b"),
            "empty": None,
        },
        status="new",
        requester_id="c1",
        created_at=AT,
        updated_at=AT,
        closed_at=AT + timedelta(days=1),
    ),
    Activity(
        ticket_id="t1",
        seq=3,
        kind=ActivityKind.STATUS_CHANGED,
        actor_id=None,
        at=AT,
        data={"to": "x"},
    ),
    Collaborator(ticket_id="t1", contact_id="c2", added_by="c1", added_at=AT),
    Timer(
        ticket_id="t1", name="reminder_1", status="waiting", status_epoch=2, due_at=AT, stale_at=AT
    ),
    Event(kind=EventKind.TICKET_CREATED, at=AT, ticket_id="t1", payload={"reference": "HHA-1"}),
    TicketRow(
        id="t1",
        reference="HHA-1",
        summary="Missing data",
        desk_id="d1",
        desk_key="HHA",
        desk_name="Help",
        request_type_id="rt",
        request_type_name="General Request",
        requester_id="c1",
        requester_name="A",
        status="waiting_for_third_party",
        status_label="Waiting for third party",
        sub_status="the bank",
        priority=Priority.HIGH,
        created_at=AT,
        updated_at=AT,
    ),
    ActivityEntry(
        ticket_id="t1",
        kind=ActivityKind.PUBLIC_UPDATE,
        actor_id="c1",
        at=AT,
        body="hi",
        actor_name="A",
        actor_role=Role.AGENT,
    ),
    NotificationSettings(
        contact_id="c1", email_off=frozenset({EventKind.PUBLIC_UPDATE, EventKind.ASSIGNED})
    ),
]


@pytest.mark.parametrize("model", MODELS, ids=lambda model: type(model).__name__)
def test_round_trip_through_json(model: object) -> None:
    data = json.loads(json.dumps(to_data(model)))
    assert from_data(data, type(model)) == model


def test_datetimes_are_iso_8601_with_offset() -> None:
    data = to_data(MODELS[4])
    assert data["created_at"] == "2026-03-02T09:30:00+00:00"
    assert data["fields"]["due"] == {"date": "2026-04-01"}


def test_naive_datetimes_and_extra_keys_are_refused() -> None:
    data = to_data(MODELS[6])
    with pytest.raises(ValidationError) as naive:
        from_data({**data, "added_at": "2026-03-02T09:30:00"}, Collaborator)
    assert "timezone-aware" in naive.value.errors["$.added_at"]
    with pytest.raises(ValidationError) as extra:
        from_data({**data, "surprise": 1}, Collaborator)
    assert "surprise" in str(extra.value)
