"""Sign-up by e-mail link, approval by an admin, password hashing and verification."""

from __future__ import annotations

import hmac
from datetime import timedelta

import attrs
import pytest

from supportdesk import (
    Contact,
    ContactState,
    Event,
    EventKind,
    FakeClock,
    InvalidToken,
    MemoryStore,
    PermissionDenied,
    Role,
    ScryptHasher,
    SignupDetails,
    SignupPolicy,
    SignupToken,
    SupportDesk,
    ValidationError,
    from_data,
    to_data,
)
from supportdesk.accounts import hash_token

from .conftest import Portal, build_portal

FAST = ScryptHasher(n=2**8)
"""Cheap scrypt parameters: tests check behaviour, not cost."""
KNOWN_CUSTOMERS = {"C-1001", "C-1002"}


@pytest.fixture
def signup_portal(clock: FakeClock) -> Portal:
    store = MemoryStore()
    portal = build_portal(store, clock)
    return attrs.evolve(portal, desk=SupportDesk(store, clock=clock, password_hasher=FAST))


def outbox(portal: Portal) -> list[Event]:
    with portal.desk._store.unit_of_work() as work:
        return [e for e in work.outbox.list_events() if e.ticket_id is None]


def request(portal: Portal, email: str) -> Event:
    before = len(outbox(portal))
    portal.desk.request_signup(email)
    (event,) = outbox(portal)[before:]
    return event


def link_token(portal: Portal, email: str) -> str:
    event = request(portal, email)
    assert event.payload["template"] == "verify"
    return event.payload["token"]


# The whole path.


def test_signup_with_immediate_activation(signup_portal: Portal) -> None:
    portal, desk = signup_portal, signup_portal.desk
    event = request(portal, "Dana@Example.TEST")
    assert event.kind is EventKind.SIGNUP_REQUESTED
    assert [r.email for r in event.recipients] == ["dana@example.test"]
    assert event.payload["expires_at"] == (portal.clock.now() + timedelta(hours=24)).isoformat()
    token = event.payload["token"]
    with pytest.raises(PermissionDenied):
        desk.list_desks(desk.find_contact("dana@example.test"))

    dana = desk.complete_signup(token, "Dana Scully", "correct horse battery")
    assert dana.state is ContactState.ACTIVE
    assert (dana.email, dana.full_name) == ("dana@example.test", "Dana Scully")
    approved = outbox(portal)[-1]
    assert approved.kind is EventKind.APPROVED
    assert [r.contact_id for r in approved.recipients] == [dana.id]
    assert desk.unread_count(dana) == 1
    assert desk.verify_password("DANA@example.test", "correct horse battery") == dana
    assert desk.verify_password("dana@example.test", "wrong horse battery") is None
    assert desk.list_desks(dana)


def test_signup_without_password(signup_portal: Portal) -> None:
    desk = signup_portal.desk
    contact = desk.complete_signup(link_token(signup_portal, "eve@x.test"), "Eve")
    assert contact.state is ContactState.ACTIVE
    assert desk.verify_password("eve@x.test", "") is None
    desk.set_password(contact, "a long enough secret")
    assert desk.verify_password("eve@x.test", "a long enough secret") == contact
    desk.set_password(contact, None)
    assert desk.verify_password("eve@x.test", "a long enough secret") is None


def test_signup_with_approval_when_the_customer_id_is_unknown(signup_portal: Portal) -> None:
    portal, desk = signup_portal, signup_portal.desk
    desk.signup_policy = SignupPolicy.review_unless(
        lambda details: details.details.get("customer_id") in KNOWN_CUSTOMERS
    )
    known = desk.complete_signup(
        link_token(portal, "known@x.test"), "Known", details={"customer_id": "C-1001"}
    )
    assert known.state is ContactState.ACTIVE

    pending = desk.complete_signup(
        link_token(portal, "new@x.test"),
        "New Person",
        "a long enough secret",
        organization_id=portal.acme.id,
        details={"customer_id": "C-9999"},
    )
    assert pending.state is ContactState.PENDING_APPROVAL
    assert pending.organization_id == portal.acme.id
    needed = outbox(portal)[-1]
    assert needed.kind is EventKind.APPROVAL_NEEDED
    assert [r.contact_id for r in needed.recipients] == [portal.admin.id]
    assert needed.payload["detail.customer_id"] == "C-9999"
    (bell,) = desk.notifications(portal.admin).notifications
    assert bell.payload["contact_id"] == pending.id
    assert desk.verify_password("new@x.test", "a long enough secret") is None
    with pytest.raises(PermissionDenied):
        desk.list_desks(pending)
    assert desk.list_pending_signups(portal.admin) == [pending]

    approved = desk.approve_signup(portal.admin, pending.id)
    assert approved.state is ContactState.ACTIVE
    welcome = outbox(portal)[-1]
    assert (welcome.kind, welcome.actor_id) == (EventKind.APPROVED, portal.admin.id)
    assert [r.contact_id for r in welcome.recipients] == [pending.id]
    assert desk.verify_password("new@x.test", "a long enough secret") == approved
    assert desk.list_pending_signups(portal.admin) == []
    with pytest.raises(ValidationError, match="active, not pending_approval"):
        desk.approve_signup(portal.admin, pending.id)


def test_rejected_signup_is_disabled_and_told(signup_portal: Portal) -> None:
    portal, desk = signup_portal, signup_portal.desk
    desk.signup_policy = SignupPolicy.always_review()
    pending = desk.complete_signup(link_token(portal, "spam@x.test"), "Spammer")
    with pytest.raises(PermissionDenied):
        desk.reject_signup(portal.agent, pending.id)
    with pytest.raises(PermissionDenied):
        desk.approve_signup(portal.alice, pending.id)
    rejected = desk.reject_signup(portal.admin, pending.id, "Not a customer")
    assert rejected.state is ContactState.DISABLED
    told = outbox(portal)[-1]
    assert (told.kind, told.payload["reason"]) == (EventKind.REJECTED, "Not a customer")
    assert [r.email for r in told.recipients] == ["spam@x.test"]
    with pytest.raises(PermissionDenied):
        desk.unread_count(rejected)


# Tokens.


def test_used_token_is_refused(signup_portal: Portal) -> None:
    token = link_token(signup_portal, "dana@x.test")
    signup_portal.desk.complete_signup(token, "Dana")
    with pytest.raises(InvalidToken, match="already used; request a new one") as caught:
        signup_portal.desk.complete_signup(token, "Someone Else")
    assert caught.value.reason == "already used"
    assert signup_portal.desk.find_contact("dana@x.test").full_name == "Dana"


def test_expired_token_is_refused(signup_portal: Portal) -> None:
    token = link_token(signup_portal, "dana@x.test")
    signup_portal.clock.advance(timedelta(hours=24))
    with pytest.raises(InvalidToken, match="expired") as caught:
        signup_portal.desk.complete_signup(token, "Dana")
    assert caught.value.reason == "expired"
    fresh = link_token(signup_portal, "dana@x.test")
    signup_portal.clock.advance(timedelta(hours=23, minutes=59))
    assert signup_portal.desk.complete_signup(fresh, "Dana").state is ContactState.ACTIVE


def test_unknown_token_is_refused(signup_portal: Portal) -> None:
    with pytest.raises(InvalidToken, match="unknown"):
        signup_portal.desk.complete_signup("made-up", "Dana")


def test_a_later_link_does_not_revive_a_used_one(signup_portal: Portal) -> None:
    first = link_token(signup_portal, "dana@x.test")
    second = link_token(signup_portal, "dana@x.test")
    signup_portal.desk.complete_signup(second, "Dana")
    with pytest.raises(InvalidToken, match="already used"):
        signup_portal.desk.complete_signup(first, "Dana")


def test_bad_input_leaves_the_link_usable(signup_portal: Portal) -> None:
    desk = signup_portal.desk
    token = link_token(signup_portal, "dana@x.test")
    with pytest.raises(ValidationError) as caught:
        desk.complete_signup(token, " ", "short")
    assert set(caught.value.errors) == {"full_name", "password"}
    with pytest.raises(ValidationError, match="organisation"):
        desk.complete_signup(token, "Dana", organization_id="nope")
    assert desk.find_contact("dana@x.test").state is ContactState.PENDING_VERIFICATION
    assert desk.complete_signup(token, "Dana").state is ContactState.ACTIVE


def test_only_the_token_hash_is_stored(signup_portal: Portal) -> None:
    token = link_token(signup_portal, "dana@x.test")
    contact = signup_portal.desk.find_contact("dana@x.test")
    with signup_portal.desk._store.unit_of_work() as work:
        record = work.accounts.get_signup_token(hash_token(token))
    assert record is not None
    assert record.contact_id == contact.id
    assert token not in repr(record)
    assert from_data(to_data(record), SignupToken) == record


def test_bad_email_is_refused(signup_portal: Portal) -> None:
    with pytest.raises(ValidationError, match="not an e-mail address"):
        signup_portal.desk.request_signup("not-an-address")


# No leak of which addresses exist.


def shape(event: Event) -> tuple[object, ...]:
    return (event.kind, sorted(event.payload), len(event.recipients), event.actor_id)


@pytest.mark.parametrize(
    "existing",
    ["alice@acme.test", "ALICE@Acme.test", "pending"],
)
def test_signup_for_an_existing_address_looks_the_same(
    signup_portal: Portal, existing: str
) -> None:
    portal, desk = signup_portal, signup_portal.desk
    if existing == "pending":
        desk.signup_policy = SignupPolicy.always_review()
        desk.complete_signup(link_token(portal, "waiting@x.test"), "Waiting")
        existing = "waiting@x.test"
    before = desk.find_contact(existing)
    fresh = request(portal, "nobody@x.test")
    known = request(portal, existing)
    assert shape(known) == shape(fresh)
    assert known.payload["template"] == "account_exists"
    assert known.payload["token"] == ""
    assert [r.email for r in known.recipients] == [before.email]
    assert desk.find_contact(existing) == before
    assert desk.unread_count(portal.alice) == 0


def test_preview_of_a_signup_keeps_nothing(signup_portal: Portal) -> None:
    desk = signup_portal.desk
    (event,) = desk.preview_notifications(lambda d: d.request_signup("ghost@x.test"))
    assert event.kind is EventKind.SIGNUP_REQUESTED
    with pytest.raises(Exception, match="not found"):
        desk.find_contact("ghost@x.test")


# Passwords.


def test_password_hash_is_salted_and_not_the_password() -> None:
    hashed = FAST.hash("correct horse battery")
    assert "correct horse battery" not in hashed
    assert hashed.startswith("scrypt$256$8$1$")
    assert FAST.hash("correct horse battery") != hashed
    assert FAST.verify("correct horse battery", hashed)
    assert not FAST.verify("correct horse batterY", hashed)
    for malformed in ("", "bcrypt$x", "scrypt$a$b$c$d$e", "scrypt$256$8$1$!!$??"):
        assert not FAST.verify("x", malformed)


def test_hashes_made_with_other_costs_still_verify() -> None:
    hashed = FAST.hash("correct horse battery")
    assert ScryptHasher().verify("correct horse battery", hashed)
    assert ScryptHasher().hash("x").startswith("scrypt$16384$8$1$")


def test_verification_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    compare_digest = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    hashed = FAST.hash("correct horse battery")
    assert FAST.verify("correct horse battery", hashed)
    assert not FAST.verify("wrong", hashed)
    assert len(compared) == 2


class CountingHasher:
    def __init__(self) -> None:
        self.verified = 0

    def hash(self, password: str) -> str:
        return FAST.hash(password)

    def verify(self, password: str, hashed: str) -> bool:
        self.verified += 1
        return FAST.verify(password, hashed)


def test_unknown_addresses_cost_a_verification_too(clock: FakeClock) -> None:
    hasher = CountingHasher()
    desk = SupportDesk(MemoryStore(), clock=clock, password_hasher=hasher)
    desk.add_contact(Contact(email="nopass@x.test", full_name="No Password"))
    assert desk.verify_password("nobody@x.test", "whatever pass") is None
    assert desk.verify_password("nopass@x.test", "whatever pass") is None
    assert hasher.verified == 2


def test_agents_and_admins_sign_in_too(signup_portal: Portal) -> None:
    desk = signup_portal.desk
    desk.set_password(signup_portal.agent, "agent secret phrase")
    found = desk.verify_password("agent@desk.test", "agent secret phrase")
    assert found is not None and found.role is Role.AGENT
    with pytest.raises(ValidationError):
        desk.set_password(signup_portal.agent, "short")


def test_policies() -> None:
    details = SignupDetails(email="a@x.test", full_name="A", details={"customer_id": "C-1001"})
    assert not SignupPolicy().needs_review(details)
    assert not SignupPolicy.approve_at_once().needs_review(details)
    assert SignupPolicy.always_review().needs_review(details)
    vouched = SignupPolicy.review_unless(lambda d: d.details.get("customer_id") == "C-1001")
    assert not vouched.needs_review(details)
    assert vouched.needs_review(SignupDetails(email="b@x.test", full_name="B"))
    short = SignupPolicy.approve_at_once(token_lifetime=timedelta(minutes=30))
    assert short.token_lifetime == timedelta(minutes=30)
