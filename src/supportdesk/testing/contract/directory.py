"""The directory area's contract: organisations and contacts."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from ..._errors import Conflict
from ..._models import (
    Contact,
    ContactState,
    Desk,
    FieldKind,
    FieldSpec,
    Organization,
    RequestType,
    Role,
)
from ...storage.protocol import ContactQuery, Store
from .base import ContractBase, World


class DirectoryContract(ContractBase):
    """What every adapter's ``work.directory`` must do; one test per promise."""

    def test_directory_round_trip(self, store: Store) -> None:
        organization = Organization(name="Acme")
        desk = Desk(key="EDI", name="EDI Support", follow_up_window=timedelta(days=7))
        contact = Contact(
            email="Dana@Acme.test",
            full_name="Dana",
            role=Role.AGENT,
            organization_id=organization.id,
            desk_ids=frozenset({desk.id}),
        )
        request_type = RequestType(
            desk_id=desk.id,
            name="SFTP Issue",
            group="I am a Payer",
            fields=(
                FieldSpec(key="state", label="State", kind=FieldKind.CHOICE, options=("NY", "CA")),
            ),
        )
        with store.unit_of_work() as work:
            work.directory.put_organization(organization)
            work.desks.put_desk(desk)
            work.directory.put_contact(contact)
            work.desks.put_request_type(request_type)
        with store.unit_of_work() as work:
            assert work.directory.get_organization(organization.id) == organization
            assert work.desks.get_desk(desk.id) == desk
            assert work.directory.get_contact(contact.id) == contact
            assert work.directory.get_contact_by_email("DANA@acme.TEST") == contact
            assert work.desks.get_request_type(request_type.id) == request_type
            assert list(work.desks.list_request_types(desk.id)) == [request_type]
            assert list(work.desks.list_desks()) == [desk]
            assert work.directory.get_contact("nobody") is None

    def test_request_types_are_listed_in_the_order_first_put(self, store: Store) -> None:
        edi, csd = Desk(key="EDI", name="EDI Support"), Desk(key="CSD", name="Customer Service")
        sftp = RequestType(desk_id=edi.id, name="SFTP Issue")
        general = RequestType(desk_id=csd.id, name="General Request")
        missing = RequestType(desk_id=edi.id, name="Portal Missing Data")
        with store.unit_of_work() as work:
            work.desks.put_desk(edi)
            work.desks.put_desk(csd)
            for request_type in (sftp, general, missing):
                work.desks.put_request_type(request_type)
        renamed = attrs.evolve(sftp, name="SFTP Problem")
        with store.unit_of_work() as work:
            work.desks.put_request_type(renamed)  # replaced in its place
        with store.unit_of_work() as work:
            assert list(work.desks.list_request_types(edi.id)) == [renamed, missing]
            assert list(work.desks.list_request_types()) == [renamed, general, missing]
            assert list(work.desks.list_request_types("nowhere")) == []

    def test_email_is_unique_case_insensitively(self, store: Store) -> None:
        with store.unit_of_work() as work:
            work.directory.put_contact(Contact(email="a@x.test", full_name="A"))
        with pytest.raises(Conflict), store.unit_of_work() as work:
            work.directory.put_contact(Contact(email="A@X.test", full_name="Another A"))
        with store.unit_of_work() as work:
            found = work.directory.get_contact_by_email("a@x.test")
            assert found is not None and found.full_name == "A"

    def test_add_contact_keeps_the_contact_that_has_the_email(self, store: Store) -> None:
        dana = Contact(email="dana@x.test", full_name="", state=ContactState.PENDING_VERIFICATION)
        with store.unit_of_work() as work:
            assert work.directory.add_contact(dana) == dana
        known = Contact(email="DANA@x.test", full_name="Other", state=ContactState.ACTIVE)
        with store.unit_of_work() as work:
            assert work.directory.add_contact(known) == dana
            assert work.directory.get_contact(known.id) is None
        with store.unit_of_work() as work:
            assert work.directory.get_contact_by_email("dana@x.test") == dana
            assert work.directory.find_contacts(ContactQuery()) == [dana]

    def test_contact_can_change_email(self, store: Store) -> None:
        contact = Contact(email="old@x.test", full_name="A")
        with store.unit_of_work() as work:
            work.directory.put_contact(contact)
        with store.unit_of_work() as work:
            work.directory.put_contact(attrs.evolve(contact, email="new@x.test"))
        with store.unit_of_work() as work:
            assert work.directory.get_contact_by_email("old@x.test") is None
            assert work.directory.get_contact_by_email("new@x.test") is not None
            work.directory.put_contact(Contact(email="old@x.test", full_name="B"))

    def test_list_contacts_filters(self, store: Store, world: World) -> None:
        admin = Contact(email="admin@desk.test", full_name="Admin", role=Role.ADMIN)
        pending = Contact(email="new@x.test", full_name="New", state=ContactState.PENDING_APPROVAL)
        with store.unit_of_work() as work:
            work.directory.put_contact(admin)
            work.directory.put_contact(pending)
            find = work.directory.find_contacts
            assert find(ContactQuery(roles={Role.AGENT, Role.ADMIN})) == [admin, world.agent]
            assert find(ContactQuery(desk_id=world.desk.id)) == [world.agent]
            assert find(ContactQuery(roles={Role.AGENT}, desk_id="other")) == []
            assert find(ContactQuery(state=ContactState.PENDING_APPROVAL)) == [pending]
            assert len(find(ContactQuery())) == 6

    def test_list_contacts_by_desk_follows_put_contact(self, store: Store, world: World) -> None:
        moved = attrs.evolve(world.agent, desk_ids=frozenset({"other", "third"}))
        with store.unit_of_work() as work:
            work.directory.put_contact(moved)
            # This transaction's own writes are seen.
            assert work.directory.find_contacts(ContactQuery(desk_id=world.desk.id)) == []
            assert work.directory.find_contacts(ContactQuery(desk_id="other")) == [moved]
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.directory.put_contact(attrs.evolve(moved, desk_ids=frozenset()))
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert work.directory.find_contacts(ContactQuery(desk_id="third")) == [moved]
            work.directory.put_contact(attrs.evolve(moved, desk_ids=frozenset({world.desk.id})))
        with store.unit_of_work() as work:
            assert work.directory.find_contacts(ContactQuery(desk_id="other")) == []
            back = ContactQuery(roles={Role.AGENT}, desk_id=world.desk.id)
            assert work.directory.find_contacts(back) == [
                attrs.evolve(moved, desk_ids=frozenset({world.desk.id}))
            ]
