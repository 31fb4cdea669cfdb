"""The portal's form for every kind of field, through Flask's test client: what the page sends
reaches the ticket typed."""

from __future__ import annotations

from datetime import date

from supportdesk import FieldKind, FieldSpec, RequestType

from .conftest import client_as, csrf_token
from .test_portal_security import portal_desk

FIELDS = (
    FieldSpec(
        key="systems",
        label="Systems",
        kind=FieldKind.MULTI_CHOICE,
        options=("Claims", "Eligibility", "SFTP"),
    ),
    FieldSpec(key="members", label="Members affected", kind=FieldKind.NUMBER),
    FieldSpec(key="since", label="Since", kind=FieldKind.DATE),
    FieldSpec(key="contact", label="Who to call", kind=FieldKind.EMAIL),
    FieldSpec(key="urgent", label="Urgent", kind=FieldKind.YES_NO),
)


def test_each_kind_of_field_is_sent_and_kept_typed() -> None:
    desk = portal_desk()
    client = client_as(desk, "alice@acme.test")
    admin = desk.find_contact("admin@portal.test")
    (service,) = [d for d in desk.list_desks(admin) if d.key == "CSD"]
    outage = desk.add_request_type(RequestType(desk_id=service.id, name="Outage", fields=FIELDS))
    path = f"/desks/{service.id}/{outage.id}"
    page = client.get(path).get_data(as_text=True)
    assert '<select id="systems" name="systems" multiple>' in page
    assert 'type="number"' in page and 'type="date"' in page and 'type="email"' in page
    answer = client.post(
        path,
        data={
            "csrf": csrf_token(page),
            "summary": "Claims and SFTP down",
            "systems": ["SFTP", "Claims"],
            "members": "120",
            "since": "2026-12-01",
            "contact": "ops@acme.test",
            "urgent": ["off", "on"],
        },
    )
    assert answer.status_code == 302
    (row,) = desk.list_tickets(desk.find_contact("alice@acme.test")).tickets
    ticket = desk.get_ticket(admin, row.reference)
    assert ticket.fields == {
        "systems": ("Claims", "SFTP"),
        "members": 120,
        "since": date(2026, 12, 1),
        "contact": "ops@acme.test",
        "urgent": True,
    }
