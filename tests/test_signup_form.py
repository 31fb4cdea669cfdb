"""The sign-up form: declared on the policy, checked by the forms engine, on every store."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import ANY

import attrs
import pytest

from supportdesk import (
    ContactState,
    EventKind,
    FakeClock,
    FieldKind,
    FieldSpec,
    SignupDetails,
    SignupPolicy,
    SignupReview,
    Store,
    ValidationError,
    describe_form,
)

from .conftest import Portal, build_portal
from .test_accounts import FAST, link_token, outbox, with_desk
from .test_forms import COMPANY, NO_ID

KNOWN_CUSTOMERS = {"C100001", "C100002"}
CUSTOMER_ID = FieldSpec(
    key="customer_id",
    label="Customer ID",
    required=True,
    pattern=r"C\d{6}",
    help_text="C followed by six digits.",
    visible_when={"no_customer_id": ("no",)},
)
STATE = FieldSpec(
    key="state",
    label="State",
    kind=FieldKind.CHOICE,
    options=("NY", "NJ", "CA"),
    required=True,
    visible_when={"no_customer_id": ("yes",)},
)
SALESFORCE_FORM = (NO_ID, CUSTOMER_ID, COMPANY, STATE)


@attrs.define
class Judge:
    """The policy's ``accept``, keeping what it was shown."""

    seen: list[SignupDetails] = attrs.field(factory=list)

    def __call__(self, submitted: SignupDetails) -> bool:
        self.seen.append(submitted)
        return submitted.details.get("customer_id") in KNOWN_CUSTOMERS


@pytest.fixture
def judge() -> Judge:
    return Judge()


@pytest.fixture
def signups(store: Store, clock: FakeClock, judge: Judge) -> Portal:
    """The usual portal whose desk takes sign-ups through the Salesforce-like form."""
    policy = SignupPolicy.review_unless(judge, fields=SALESFORCE_FORM)
    return with_desk(build_portal(store, clock), signup_policy=policy, password_hasher=FAST)


def test_a_known_customer_id_is_active_at_once(signups: Portal, judge: Judge) -> None:
    dana = signups.desk.complete_signup(
        link_token(signups, "dana@x.test"), "Dana", details={"customer_id": " C100001 "}
    )
    assert dana.state is ContactState.ACTIVE
    (seen,) = judge.seen
    assert seen.details == {"customer_id": "C100001"}


def test_ticking_i_do_not_know_my_customer_id_asks_more_and_parks_the_account(
    signups: Portal, judge: Judge
) -> None:
    desk, token = signups.desk, link_token(signups, "erin@x.test")
    with pytest.raises(ValidationError) as caught:
        desk.complete_signup(token, " ", details={"no_customer_id": "on", "state": "TX"})
    assert caught.value.errors == {
        "full_name": "Enter a name.",
        "company": "Enter a value.",
        "state": "Choose one of: NY, NJ, CA.",
    }
    # The customer id typed before the box was ticked is sent but ignored.
    details = {"no_customer_id": "on", "company": "Initech", "state": "NJ", "customer_id": "C1"}
    erin = desk.complete_signup(token, "Erin", details=details)
    assert erin.state is ContactState.PENDING_APPROVAL
    assert judge.seen[-1].details == {"no_customer_id": True, "company": "Initech", "state": "NJ"}
    needed = outbox(signups)[-1]
    assert needed.kind is EventKind.APPROVAL_NEEDED
    # Who signed up, not what they answered: that is the review page's.
    assert needed.payload == {"email": "erin@x.test", "full_name": "Erin", "contact_id": erin.id}
    (waiting,) = signups.desk.list_pending_signups(signups.admin)
    assert waiting.details == {"no_customer_id": True, "company": "Initech", "state": "NJ"}


def test_an_unknown_customer_id_waits_for_an_admin(signups: Portal) -> None:
    desk = signups.desk
    token = link_token(signups, "finn@x.test")
    with pytest.raises(ValidationError) as caught:
        desk.complete_signup(token, "Finn", details={"customer_id": "12345"})
    assert caught.value.errors == {
        "customer_id": "Enter a value in the expected format. C followed by six digits."
    }
    finn = desk.complete_signup(token, "Finn", details={"customer_id": "C999999"})
    assert finn.state is ContactState.PENDING_APPROVAL
    (waiting,) = desk.list_pending_signups(signups.admin)
    assert waiting.contact == finn
    assert waiting.details == {"customer_id": "C999999"}
    assert waiting.submitted_at == signups.clock.now()


def test_the_review_lists_each_sign_up_with_its_answers_until_it_is_decided(
    signups: Portal,
) -> None:
    desk, admin = signups.desk, signups.admin
    finn = desk.complete_signup(
        link_token(signups, "finn@x.test"), "Finn", details={"customer_id": "C999999"}
    )
    signups.clock.advance(timedelta(minutes=5))
    unsure = {"no_customer_id": "yes", "company": "Initech", "state": "NJ"}
    erin = desk.complete_signup(link_token(signups, "erin@x.test"), "Erin", details=unsure)
    waiting = desk.list_pending_signups(admin)
    assert [(w.contact, w.details) for w in waiting] == [
        (erin, {"no_customer_id": True, "company": "Initech", "state": "NJ"}),
        (finn, {"customer_id": "C999999"}),
    ]
    assert waiting[0].submitted_at - waiting[1].submitted_at == timedelta(minutes=5)
    assert desk.export_contact_data(admin, erin.id)["signup_answers"] == [
        {"contact_id": erin.id, "details": waiting[0].details, "submitted_at": ANY}
    ]

    # Decided or erased, the answers served their purpose and are gone.
    desk.approve_signup(admin, finn.id)
    desk.erase_contact(admin, erin.id)
    assert desk.list_pending_signups(admin) == []
    for person in (finn, erin):
        assert desk.export_contact_data(admin, person.id)["signup_answers"] == []


def test_details_the_form_does_not_declare_are_refused(signups: Portal) -> None:
    desk, token = signups.desk, link_token(signups, "gail@x.test")
    with pytest.raises(ValidationError) as caught:
        desk.complete_signup(token, "Gail", details={"customer_id": "C100001", "medicaid": "1"})
    assert caught.value.errors == {"medicaid": "Unknown field."}
    desk.signup_policy = SignupPolicy()
    with pytest.raises(ValidationError) as caught:
        desk.complete_signup(token, "Gail", details={"customer_id": "C100001"})
    assert caught.value.errors == {"customer_id": "Unknown field."}
    assert desk.complete_signup(token, "Gail").state is ContactState.ACTIVE


@pytest.mark.parametrize(
    ("details", "named"),
    [([("customer_id", "C100001")], "details"), ({1: "C100001"}, "details")],
)
def test_details_of_the_wrong_type_are_type_errors(
    signups: Portal, details: Any, named: str
) -> None:
    with pytest.raises(TypeError, match=named):
        signups.desk.complete_signup(link_token(signups, "hal@x.test"), "Hal", details=details)


def test_the_sign_up_form_is_described_as_a_request_types_is() -> None:
    policy = SignupPolicy.always_review(fields=SALESFORCE_FORM)
    assert describe_form(policy.fields) == SALESFORCE_FORM
    assert describe_form(policy.fields)[1].visible_when == {"no_customer_id": ("no",)}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ((FieldSpec(key="notes", label="Notes", internal=True),), "notes: a sign-up form has no"),
        ((FieldSpec(key="full_name", label="Name"),), "full_name: name it other than details"),
        ((CUSTOMER_ID,), "customer_id: it depends on 'no_customer_id'"),
        ((NO_ID, NO_ID), "no_customer_id: two fields share this key"),
    ],
)
def test_a_sign_up_form_nobody_could_fill_in_is_refused_when_the_policy_is_built(
    fields: tuple[FieldSpec, ...], message: str
) -> None:
    for build in (
        lambda: SignupPolicy(fields=fields),
        lambda: SignupPolicy.approve_at_once(fields=fields),
        lambda: SignupPolicy.review_unless(lambda submitted: True, fields=fields),
    ):
        with pytest.raises(ValidationError) as caught:
            build()
        assert list(caught.value.errors) == ["fields"]
        assert caught.value.errors["fields"].startswith(message)


def test_every_constructor_takes_the_same_options() -> None:
    options: dict[str, Any] = {
        "fields": (NO_ID,),
        "token_lifetime": timedelta(hours=2),
        "reset_token_lifetime": timedelta(minutes=20),
        "min_password_length": 12,
    }
    for policy, review in (
        (SignupPolicy.approve_at_once(**options), SignupReview.NEVER),
        (SignupPolicy.always_review(**options), SignupReview.ALWAYS),
        (SignupPolicy.review_unless(lambda s: True, **options), SignupReview.UNLESS_ACCEPTED),
    ):
        assert policy.review is review
        assert {name: getattr(policy, name) for name in options} == options
    default = SignupPolicy()
    assert (default.fields, default.token_lifetime, default.reset_token_lifetime) == (
        (),
        timedelta(hours=24),
        timedelta(hours=1),
    )
