"""What every recipe's host sets up on start: desks, request types and contacts, idempotently.

Everything carries a fixed id, and the desk's ``add_*`` methods insert or
replace by id, so seeding on every start (or from several processes at
once) leaves one of each.
"""

from __future__ import annotations

from supportdesk import Contact, Desk, Organization, RequestType, Role, SupportDesk

ACME = Organization(id="acme", name="Acme Health")
SERVICE_DESK = Desk(id="customer-service", key="CSD", name="Customer Service Desk")
GENERAL = RequestType(
    id="general-request", desk_id=SERVICE_DESK.id, name="General Request", description_required=True
)
INCIDENT = RequestType(id="incident", desk_id=SERVICE_DESK.id, name="Incident")
CONTACTS = (
    Contact(id="alice", email="alice@acme.test", full_name="Alice Payer", organization_id=ACME.id),
    Contact(id="bob", email="bob@acme.test", full_name="Bob Payer", organization_id=ACME.id),
    Contact(
        id="agent",
        email="agent@desk.test",
        full_name="Agent Smith",
        role=Role.AGENT,
        desk_ids=frozenset({SERVICE_DESK.id}),
    ),
)


def seed(desk: SupportDesk) -> None:
    """Put the portal's desk, request types and contacts in place; a second call changes nothing."""
    desk.add_organization(ACME)
    desk.add_desk(SERVICE_DESK)
    desk.add_request_type(GENERAL)
    desk.add_request_type(INCIDENT)
    for contact in CONTACTS:
        desk.add_contact(contact)


LOGIN_HEADER = "X-User-Email"
"""Stands in for the host's own login in these recipes: the signed-in person's e-mail address.

A real host reads it from its session (``flask_login.current_user.email``,
``request.user.email`` under ``django.contrib.auth``, a verified token);
never trust a header a browser can set.
"""
