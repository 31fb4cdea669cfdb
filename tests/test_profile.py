"""Profiles on every store: a contact renames themselves; admins rename and move anyone."""

from __future__ import annotations

from typing import cast

import attrs
import pytest

from supportdesk import (
    Contact,
    ContactState,
    NotFound,
    PermissionDenied,
    TicketList,
    ValidationError,
)

from .conftest import Portal


def test_a_contact_renames_themselves(portal: Portal) -> None:
    desk, alice = portal.desk, portal.alice
    renamed = desk.update_profile(alice, "  Alice P. Payer ")
    assert renamed == attrs.evolve(alice, full_name="Alice P. Payer")
    assert desk.get_contact(alice.id) == renamed
    assert desk.update_profile(portal.agent, "Agent J", contact_id=portal.agent.id).full_name == (
        "Agent J"
    )


def test_the_new_name_shows_where_the_name_does(portal: Portal) -> None:
    ticket = portal.open()
    portal.desk.update_profile(portal.alice, "Alice Renamed")
    view = portal.desk.view_ticket(portal.agent, ticket.reference)
    assert [c.full_name for c in view.shared_with if c.id == portal.alice.id] == ["Alice Renamed"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a name."),
        ("  ", "Enter a name."),
        ("Alice\nBcc: x", "Use one line, without line breaks."),
        # Every break a mail header or a log line would honour, not CR and LF alone.
        *(
            (f"Bob{brk}Payer", "Use one line, without line breaks.")
            for brk in ("\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029")
        ),
        ("Alice Payer\r", "Use one line, without line breaks."),
        ("A" * 256, "Use at most 255 characters (this has 256)."),
        ("Al\x00ice", "Remove the NUL character."),
        ("Al\ud800", "Use valid text: this has a broken character (a lone surrogate)."),
    ],
)
def test_a_name_is_checked_where_it_enters(portal: Portal, name: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        portal.desk.update_profile(portal.alice, name)
    assert caught.value.errors == {"full_name": message}
    assert portal.desk.get_contact(portal.alice.id) == portal.alice


def test_wrong_types_name_the_parameter(portal: Portal) -> None:
    desk = portal.desk
    with pytest.raises(TypeError, match="full_name"):
        desk.update_profile(portal.alice, cast(str, None))
    with pytest.raises(TypeError, match="contact_id"):
        desk.update_profile(portal.admin, "X", contact_id=cast(str, 5))
    with pytest.raises(TypeError, match="organization_id"):
        desk.set_contact_organization(portal.admin, portal.alice.id, cast(str, 5))


def test_only_admins_rename_someone_else(portal: Portal) -> None:
    desk, bob = portal.desk, portal.bob
    for actor in (portal.alice, portal.agent):
        with pytest.raises(PermissionDenied, match="only admins may"):
            desk.update_profile(actor, "Robert", contact_id=bob.id)
        # No look-up first: an id that names nobody is refused the same.
        with pytest.raises(PermissionDenied, match="only admins may"):
            desk.update_profile(actor, "Robert", contact_id="no-such-contact")
    assert desk.get_contact(bob.id) == bob
    renamed = desk.update_profile(portal.admin, "Robert Payer", contact_id=bob.id)
    assert renamed == attrs.evolve(bob, full_name="Robert Payer")
    with pytest.raises(NotFound):
        desk.update_profile(portal.admin, "Nobody", contact_id="no-such-contact")


def test_a_disabled_contact_changes_nothing(portal: Portal) -> None:
    desk = portal.desk
    disabled = desk.add_contact(attrs.evolve(portal.loner, state=ContactState.DISABLED))
    with pytest.raises(PermissionDenied):
        desk.update_profile(disabled, "Back again")
    assert desk.get_contact(disabled.id).full_name == "Lone Customer"
    # An admin may still correct the name of a disabled account.
    fixed = desk.update_profile(portal.admin, "Lone C.", contact_id=disabled.id)
    assert (fixed.full_name, fixed.state) == ("Lone C.", ContactState.DISABLED)


def test_admins_move_a_contact_between_organisations(portal: Portal) -> None:
    desk, carol = portal.desk, portal.carol
    acme_ticket = portal.open(portal.bob)
    assert desk.count_tickets(carol, TicketList.ORGANIZATION) == 0
    moved = desk.set_contact_organization(portal.admin, carol.id, portal.acme.id)
    assert moved == attrs.evolve(carol, organization_id=portal.acme.id)
    assert desk.get_ticket(moved, acme_ticket.reference) == acme_ticket
    alone = desk.set_contact_organization(portal.admin, carol.id, None)
    assert alone.organization_id is None
    with pytest.raises(NotFound):
        desk.get_ticket(alone, acme_ticket.reference)


def test_only_admins_move_contacts_and_only_to_organisations_that_exist(portal: Portal) -> None:
    desk = portal.desk
    for actor in (portal.alice, portal.agent):
        with pytest.raises(PermissionDenied, match="only admins may"):
            desk.set_contact_organization(actor, actor.id, portal.globex.id)
    with pytest.raises(ValidationError) as caught:
        desk.set_contact_organization(portal.admin, portal.alice.id, "no-such-org")
    assert caught.value.errors == {"organization_id": "no organisation 'no-such-org'"}
    with pytest.raises(NotFound):
        desk.set_contact_organization(portal.admin, "no-such-contact", portal.acme.id)
    assert desk.get_contact(portal.alice.id) == portal.alice


def test_a_contact_keeps_their_address(portal: Portal) -> None:
    renamed = portal.desk.update_profile(portal.alice, "Alice")
    assert isinstance(renamed, Contact)
    assert portal.desk.find_contact("alice@acme.test") == renamed
