"""Request types and their conditional forms on every store: kept as defined, listed, checked
when defined, applied on open."""

from __future__ import annotations

import pytest

from supportdesk import (
    FieldKind,
    FieldSpec,
    NotFound,
    RequestType,
    Submission,
    ValidationError,
)

from .conftest import Portal
from .test_forms import CATEGORY, CUSTOMER_ID, NO_ID, PRODUCT

MEMBERS = FieldSpec(
    key="members",
    label="Member ids",
    kind=FieldKind.LONG_TEXT,
    visible_when={"category": ("Data",), "no_customer_id": ("yes", "no")},
)


def case_form(portal: Portal) -> RequestType:
    return RequestType(
        desk_id=portal.help_desk.id,
        name="Support Case",
        fields=(PRODUCT, CATEGORY, NO_ID, CUSTOMER_ID, MEMBERS),
    )


def test_a_conditional_form_is_kept_as_defined(portal: Portal) -> None:
    case = portal.desk.add_request_type(case_form(portal))
    listed = portal.desk.list_request_types(portal.alice, portal.help_desk.id)
    assert [rt for rt in listed if rt.id == case.id] == [case]


def test_every_desks_request_types_come_in_one_call_for_the_home_page(portal: Portal) -> None:
    desk, alice = portal.desk, portal.alice
    sftp = desk.add_request_type(RequestType(desk_id=portal.other_desk.id, name="SFTP Issue"))
    listed = desk.list_request_types(alice)
    assert listed == [portal.general, portal.incident, sftp]
    assert desk.list_request_types(alice, portal.other_desk.id) == [sftp]
    with pytest.raises(NotFound):
        desk.list_request_types(alice, "no-such-desk")


def test_a_ticket_keeps_only_the_fields_shown(portal: Portal) -> None:
    desk, alice = portal.desk, portal.alice
    case = desk.add_request_type(case_form(portal))
    posted = {
        "product": "Claims Portal",
        "category": "Access",
        "customer_id": "C1",
        "members": "typed before the category changed",
    }
    ticket = desk.open_ticket(alice, case.id, Submission(summary="Locked out", fields=posted))
    assert desk.get_ticket(alice, ticket.reference).fields == {
        "product": "Claims Portal",
        "category": "Access",
        "customer_id": "C1",
    }
    with pytest.raises(ValidationError) as caught:
        desk.open_ticket(
            alice,
            case.id,
            Submission(summary="S", fields={"product": "Eligibility API", "category": "Data"}),
        )
    assert caught.value.errors == {
        "category": "Choose one of: Access, Billing.",
        "customer_id": "Enter a value.",
    }


def test_a_form_nobody_could_fill_in_is_not_kept(portal: Portal) -> None:
    desk = portal.desk
    broken = RequestType(
        desk_id=portal.help_desk.id, name="Broken", fields=(CUSTOMER_ID, NO_ID, PRODUCT)
    )
    with pytest.raises(ValidationError) as caught:
        desk.add_request_type(broken)
    assert caught.value.errors == {
        "fields": "customer_id: it depends on 'no_customer_id', which must come before it"
    }
    listed = desk.list_request_types(portal.alice, portal.help_desk.id)
    assert [rt.name for rt in listed] == ["General Request", "Incident"]
