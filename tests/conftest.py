"""Shared fixtures: a portal with organisations, customers, agents and desks, on every store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import settings

from supportdesk import (
    Contact,
    Desk,
    FakeClock,
    FieldKind,
    FieldSpec,
    MemoryStore,
    Organization,
    RequestType,
    Role,
    Store,
    Submission,
    SupportDesk,
    Ticket,
)

# CI explores the same examples on every run, so a red run is always
# reproducible; local runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


@attrs.frozen(kw_only=True)
class Portal:
    """A desk on one store, the people who use it and a fake clock."""

    desk: SupportDesk
    clock: FakeClock
    help_desk: Desk
    other_desk: Desk
    general: RequestType
    incident: RequestType
    acme: Organization
    globex: Organization
    alice: Contact
    """Customer of Acme, the usual requester."""
    bob: Contact
    """Customer of Acme, alice's colleague."""
    carol: Contact
    """Customer of Globex: outside alice's organisation."""
    loner: Contact
    """Customer without an organisation."""
    agent: Contact
    """Agent of the help desk."""
    outsider_agent: Contact
    """Agent of the other desk only."""
    admin: Contact

    def open(
        self, requester: Contact | None = None, summary: str = "Portal missing data"
    ) -> Ticket:
        """Open a general request as ``requester`` (alice by default)."""
        return self.desk.open_ticket(
            requester or self.alice,
            self.general.id,
            Submission(summary=summary, description="Claims from May are missing."),
        )


def memory_store() -> Store:
    return MemoryStore()


STORES = [pytest.param(memory_store, id="memory")]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    made: Store = request.param()
    yield made
    made.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def portal(store: Store, clock: FakeClock) -> Portal:
    return build_portal(store, clock)


def build_portal(store: Store, clock: FakeClock) -> Portal:
    """Two desks, two organisations, four customers, two agents and an admin on ``store``."""
    desk = SupportDesk(store, clock=clock)
    acme = desk.add_organization(Organization(name="Acme Health"))
    globex = desk.add_organization(Organization(name="Globex"))
    help_desk = desk.add_desk(Desk(key="HHA", name="Customer Service Desk"))
    other_desk = desk.add_desk(Desk(key="EDI", name="EDI Support Desk"))
    general = desk.add_request_type(
        RequestType(desk_id=help_desk.id, name="General Request", description_required=True)
    )
    incident = desk.add_request_type(
        RequestType(
            desk_id=help_desk.id,
            name="Incident",
            fields=(
                FieldSpec(
                    key="severity", label="Severity", kind=FieldKind.CHOICE, options=("low", "high")
                ),
            ),
        )
    )

    def contact(email: str, name: str, **changes: Any) -> Contact:
        return desk.add_contact(attrs.evolve(Contact(email=email, full_name=name), **changes))

    return Portal(
        desk=desk,
        clock=clock,
        help_desk=help_desk,
        other_desk=other_desk,
        general=general,
        incident=incident,
        acme=acme,
        globex=globex,
        alice=contact("alice@acme.test", "Alice Payer", organization_id=acme.id),
        bob=contact("bob@acme.test", "Bob Payer", organization_id=acme.id),
        carol=contact("carol@globex.test", "Carol Provider", organization_id=globex.id),
        loner=contact("loner@example.test", "Lone Customer"),
        agent=contact(
            "agent@desk.test", "Agent Smith", role=Role.AGENT, desk_ids=frozenset({help_desk.id})
        ),
        outsider_agent=contact(
            "edi@desk.test", "EDI Agent", role=Role.AGENT, desk_ids=frozenset({other_desk.id})
        ),
        admin=contact("admin@desk.test", "Admin", role=Role.ADMIN),
    )
