"""Quickstart: the two portals of the design, their tickets and timers, printed as activity logs.

The JSM-like desks follow the default workflow in JSM's words ("Waiting for
support") on office hours; the Salesforce-like case desk keeps the default
statuses around the clock.  Each desk names its workflow and calendar.

Run it with ``nox -s demo`` or ``python examples/quickstart.py [--url URL]``; by
default it writes a fresh SQLite file in a temporary folder.
"""

from __future__ import annotations

import argparse
import io
import tempfile
from datetime import time, timedelta
from pathlib import Path

import attrs

from supportdesk import (
    DEFAULT_WORKFLOW,
    BusinessCalendar,
    Contact,
    DependentOptions,
    Desk,
    Event,
    FakeClock,
    FieldKind,
    FieldSpec,
    Organization,
    RequestType,
    Role,
    SignupDetails,
    SignupPolicy,
    Submission,
    SupportDesk,
    Ticket,
    TicketList,
    Workflow,
)

DAY = timedelta(days=1)
PNG_HEADER = b"\x89PNG\r\n\x1a\n"
KNOWN_CUSTOMERS = {"C123456"}
"""The customer ids the case portal knows: a sign-up with one of them is active at once."""
APPROVED_DOMAINS = {"acme.test"}
"""The Help Center's approved domains: a sign-up from one of them is active at once."""
CUSTOMER_ID = FieldSpec(
    key="customer_id",
    label="Customer ID",
    required=True,
    pattern=r"C\d{6}",
    help_text="C followed by six digits",
)
"""Asked on the case form, and on the sign-up form unless the person does not know it."""
JSM = Workflow(DEFAULT_WORKFLOW).relabel(
    {
        "new": "Waiting for support",
        "assigned": "Waiting for support",
        "pending_support": "Waiting for support",
        "waiting_for_third_party": "Waiting for support",
    },
    name="jsm",
)
"""The default workflow's moves and timers, in the words a JSM portal shows its customers."""
OFFICE = BusinessCalendar(timezone="America/New_York", opens=time(8), closes=time(18))
"""The JSM-like desks' hours: their timers count working days."""


def build_jira_portal(desk: SupportDesk) -> dict[str, RequestType]:
    """A Customer Service Desk and an EDI Support Desk grouped by audience."""
    service = desk.add_desk(
        Desk(key="CSD", name="Customer Service Desk", workflow="jsm", calendar="office")
    )
    edi = desk.add_desk(Desk(key="HHA", name="EDI Support Desk", workflow="jsm", calendar="office"))
    types = {
        "general": RequestType(
            desk_id=service.id, name="General Request", description_required=True
        ),
        "incident": RequestType(desk_id=service.id, name="Incident", description_required=True),
        "payer_missing": RequestType(
            desk_id=edi.id, name="Portal Missing Data", group="I am a Payer"
        ),
        "sftp": RequestType(desk_id=edi.id, name="SFTP Issue", group="I am a Payer"),
        "payer_inquiry": RequestType(desk_id=edi.id, name="General Inquiry", group="I am a Payer"),
        "provider_missing": RequestType(
            desk_id=edi.id, name="Portal Missing Data", group="I am a Provider"
        ),
        "provider_request": RequestType(
            desk_id=edi.id, name="Provider Request", group="I am a Provider"
        ),
    }
    return {key: desk.add_request_type(request_type) for key, request_type in types.items()}


def build_case_portal(desk: SupportDesk) -> RequestType:
    """A Salesforce-style desk whose case form asks for product, category and ids."""
    support = desk.add_desk(Desk(key="CASE", name="Customer Support Portal"))
    fields = (
        FieldSpec(
            key="product",
            label="Product",
            kind=FieldKind.CHOICE,
            required=True,
            options=("Claims Portal", "Eligibility API"),
        ),
        FieldSpec(
            key="category",
            label="Category",
            kind=FieldKind.CHOICE,
            required=True,
            options=("Access", "Data", "Billing"),
            # The categories offered depend on the product chosen.
            options_by=DependentOptions(
                field="product",
                options={
                    "Claims Portal": ("Access", "Data"),
                    "Eligibility API": ("Access", "Billing"),
                },
            ),
        ),
        CUSTOMER_ID,
        FieldSpec(key="medicaid_id", label="Medicaid ID", max_length=12),
        FieldSpec(key="username", label="Username", required=True),
        FieldSpec(key="state", label="State", kind=FieldKind.CHOICE, options=("NY", "NJ", "CA")),
    )
    case = RequestType(
        desk_id=support.id, name="Support Case", description_required=True, fields=fields
    )
    return desk.add_request_type(case)


def portal_signup() -> SignupPolicy:
    """Both portals' sign-up: a known address or customer id is active at once; else review.

    The Help Center's people sign up with their name and password alone: an
    address of an approved domain (JSM's "approved domains") is active at
    once.  The case portal asks for a customer id, and a known one is active
    at once too; ticking "I don't know my customer id" hides it and asks for
    the company and state instead, for the admin to go by.
    """
    shown_when_ticked = {"no_customer_id": ("yes",)}
    return SignupPolicy.review_unless(
        _known,
        fields=(
            FieldSpec(
                key="no_customer_id", label="I don't know my customer id", kind=FieldKind.YES_NO
            ),
            attrs.evolve(CUSTOMER_ID, required=False, visible_when={"no_customer_id": ("no",)}),
            FieldSpec(
                key="company", label="Company", required=True, visible_when=shown_when_ticked
            ),
            FieldSpec(
                key="state",
                label="State",
                kind=FieldKind.CHOICE,
                options=("NY", "NJ", "CA"),
                required=True,
                visible_when=shown_when_ticked,
            ),
        ),
    )


def _known(submitted: SignupDetails) -> bool:
    """Whether the portal knows who signs up: by their address's domain or their customer id."""
    domain = submitted.email.rpartition("@")[2]
    return domain in APPROVED_DOMAINS or submitted.details.get("customer_id") in KNOWN_CUSTOMERS


def sign_up(desk: SupportDesk, email: str, name: str, details: dict[str, object]) -> Contact:
    """Ask for a sign-up link, take it from the outbox as the mailer would, and complete it."""
    desk.request_signup(email)
    links: list[Event] = []
    desk.dispatch_notifications(links.append)
    (link,) = [event for event in links if event.payload.get("email") == email]
    return desk.complete_signup(link.payload["token"], name, details=details)


def print_log(desk: SupportDesk, viewer: Contact, ticket: Ticket) -> None:
    """Print a ticket's page as ``viewer`` sees it: one call, names included."""
    view = desk.view_ticket(viewer, ticket.reference)
    print(f"\n{view.ticket.reference} [{view.status_label}] {view.ticket.summary}")
    shared = ", ".join(contact.full_name for contact in view.shared_with)
    assignee = view.assignee_name or "nobody"
    print(f"  {view.request_type.name} on {view.desk.name}; assigned to {assignee}")
    print(f"  shared with: {shared}")
    for entry in view.activities:
        # Ids are for links, not for reading.
        details = ", ".join(f"{k}={v}" for k, v in entry.data.items() if not k.endswith("_id"))
        text = f" {entry.body!r}" if entry.body else ""
        when = f"{entry.at:%Y-%m-%d %H:%M}"
        who = f"{entry.actor_name:<15}"
        print(f"  {entry.seq:>2} {when} {who} {entry.kind.value:<20}{text} {details}".rstrip())


def print_requests(desk: SupportDesk, viewer: Contact) -> None:
    """Print the "Created by me" list as ``viewer`` sees it, with the tabs' counts."""
    page = desk.list_tickets(viewer, TicketList.CREATED_BY_ME)
    tabs = ", ".join(f"{which.value} {count.total}" for which, count in page.counts.items())
    print(f"\n{viewer.full_name}'s requests ({tabs}):")
    for row in page.tickets:
        print(
            f"  {row.reference:<8} {row.request_type_name:<20} {row.summary[:30]:<30} "
            f"{row.status_label:<22} {row.desk_name:<24} {row.requester_name}"
        )


def print_notifications(desk: SupportDesk) -> None:
    """Deliver the outbox to a handler that prints who would get an e-mail about what."""
    sent: list[str] = []

    def handler(event: Event) -> None:
        names = ", ".join(recipient.full_name for recipient in event.recipients) or "nobody"
        sent.append(f"  {event.kind.value:<20} {event.payload.get('reference', '-'):<8} to {names}")

    while desk.dispatch_notifications(handler).attempted:
        pass
    print(f"\n{len(sent)} notifications delivered, the first ten:")
    print("\n".join(sent[:10]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="database URL (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'portal.db'}"
        print(f"database: {url}")
        clock = FakeClock()
        desk = SupportDesk.from_url(
            url,
            create=True,
            clock=clock,
            signup_policy=portal_signup(),
            workflows={"jsm": JSM},
            calendars={"office": OFFICE},
        )
        try:
            run(desk, clock)
        finally:
            desk.dispose()


def run(desk: SupportDesk, clock: FakeClock) -> None:
    """Build both portals on ``desk`` and walk their tickets through the workflow."""

    acme = desk.add_organization(Organization(name="Acme Health Plan"))
    globex = desk.add_organization(Organization(name="Globex Clinic"))
    types = build_jira_portal(desk)
    case_type = build_case_portal(desk)
    admin = desk.add_contact(
        Contact(email="admin@portal.test", full_name="Ada Admin", role=Role.ADMIN)
    )
    desks = {d.key: d for d in desk.list_desks(admin)}
    agent = desk.add_contact(
        Contact(
            email="agent@portal.test",
            full_name="Sam Agent",
            role=Role.AGENT,
            desk_ids=frozenset(d.id for d in desks.values()),
        )
    )
    alice = desk.add_contact(
        Contact(email="alice@acme.test", full_name="Alice Payer", organization_id=acme.id)
    )
    carol = desk.add_contact(
        Contact(email="carol@globex.test", full_name="Carol Provider", organization_id=globex.id)
    )

    # Sign-up: an approved domain or a known customer id is active at once; "I don't
    # know my customer id" asks for the company and state, and an admin decides.
    dana = sign_up(desk, "dana@umbrella.test", "Dana Payer", {"customer_id": "C123456"})
    erin = sign_up(
        desk,
        "erin@initech.test",
        "Erin Unsure",
        {"no_customer_id": "on", "company": "Initech", "state": "NJ"},
    )
    print(f"sign-up: {dana.email} {dana.state.value}, {erin.email} {erin.state.value}")
    erin = desk.approve_signup(admin, erin.id)
    print(f"sign-up: {erin.email} {erin.state.value} once approved")

    # EDI desk: Alice reports missing data, shares with Carol of another organisation.
    missing = desk.open_ticket(
        alice,
        types["payer_missing"].id,
        Submission(
            summary="Claims from May missing in the portal", description="Batch 0517 is not listed."
        ),
    )
    desk.add_collaborator(alice, missing.reference, carol.email)
    desk.assign(agent, missing.reference, agent.id)
    desk.ask_customer(agent, missing.reference, "Which member ids are affected?")
    clock.advance(timedelta(hours=3))
    desk.share_update(carol, missing.reference, "Members 1001 to 1040, all from our clinic.")
    screenshot = io.BytesIO(PNG_HEADER + bytes(64))
    desk.attach(carol, missing.reference, "portal-screenshot.png", screenshot)
    desk.add_note(agent, missing.reference, "Batch stuck in the SFTP inbox; reprocessing.")
    desk.resolve(agent, missing.reference, "Reprocessed batch 0517; the claims are listed now.")

    # Case portal: a case that waits on the customer until the timers act.
    case = desk.open_ticket(
        alice,
        case_type.id,
        Submission(
            summary="Cannot log in to the claims portal",
            description="Password reset mail never arrives.",
            fields={
                "product": "Claims Portal",
                "category": "Access",
                "customer_id": "C123456",
                "username": "alice.p",
                "state": "NY",
            },
        ),
    )
    desk.ask_customer(agent, case.reference, "Could you check your spam folder?")
    start = clock.now()
    for day in range(1, 8):
        clock.set(start + day * DAY)
        report = desk.run_due_timers()
        print(f"day {day}: fired {report.fired}, skipped {report.skipped}")

    # Service desk: an incident closed, then a follow-up from the customer.
    incident = desk.open_ticket(
        alice,
        types["incident"].id,
        Submission(summary="Portal down", description="Error 502 on every page."),
    )
    desk.resolve(agent, incident.reference, "Load balancer restarted.")
    desk.close(alice, incident.reference)
    follow_up = desk.share_update(alice, incident.reference, "It is down again this morning.")

    # A new case reads "New" on the case desk; a new request "Waiting for support" on JSM's.
    desk.open_ticket(
        alice,
        case_type.id,
        Submission(
            summary="Eligibility API returns 500",
            description="Since this morning's release.",
            fields={
                "product": "Eligibility API",
                "category": "Access",
                "customer_id": "C123456",
                "username": "alice.p",
            },
        ),
    )
    print_requests(desk, alice)
    for ticket in (missing, case, incident, follow_up):
        print_log(desk, agent, ticket)
    for attachment in desk.list_attachments(alice, missing.reference):
        print(
            f"\nattachment on {missing.reference}: {attachment.filename} "
            f"({attachment.content_type}, {attachment.size} bytes)"
        )
    print_notifications(desk)
    print("\nAlice sees no internal notes:")
    print_log(desk, alice, missing)


if __name__ == "__main__":
    main()
