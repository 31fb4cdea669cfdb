"""Sign-up by e-mail link, approval by an admin, password hashing and verification."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

import attrs
import pytest

from supportdesk import (
    AccountToken,
    Contact,
    ContactState,
    DeliveryState,
    Event,
    EventKind,
    FakeClock,
    FieldSpec,
    InvalidToken,
    MemoryStore,
    PermissionDenied,
    RetryPolicy,
    Role,
    ScryptHasher,
    SignupDetails,
    SignupPolicy,
    SupportDesk,
    TokenPurpose,
    ValidationError,
    from_data,
    to_data,
)
from supportdesk.accounts import MAX_PASSWORD_LENGTH, hash_token
from supportdesk.storage.protocol import ContactQuery

from .conftest import Portal, build_portal

FAST = ScryptHasher(n=2**8)
"""Cheap scrypt parameters: tests check behaviour, not cost."""
KNOWN_CUSTOMERS = {"C-1001", "C-1002"}
CUSTOMER_ID = (FieldSpec(key="customer_id", label="Customer ID"),)
"""The sign-up form of these tests: a customer id, optional."""


def with_desk(portal: Portal, **options: Any) -> Portal:
    """``portal`` with a desk of its store and clock built with ``options``."""
    desk = SupportDesk(portal.desk._store, clock=portal.clock, **options)
    return attrs.evolve(portal, desk=desk)


@pytest.fixture
def signup_portal(clock: FakeClock) -> Portal:
    policy = SignupPolicy(fields=CUSTOMER_ID)
    return with_desk(build_portal(MemoryStore(), clock), password_hasher=FAST, signup_policy=policy)


def outbox(portal: Portal) -> list[Event]:
    with portal.desk._store.unit_of_work() as work:
        return [e for e in work.outbox.list_events() if e.ticket_id is None]


def written(portal: Portal, call: Callable[[], object]) -> Event:
    """The one event that is no ticket's (an account's) which ``call()`` writes."""
    before = len(outbox(portal))
    call()
    (event,) = outbox(portal)[before:]
    return event


def request(portal: Portal, email: str, *, reset: bool = False) -> Event:
    """The event a sign-up request (or, with ``reset``, a password reset request) writes."""
    desk = portal.desk
    ask = desk.request_password_reset if reset else desk.request_signup
    return written(portal, lambda: ask(email))


def link_token(portal: Portal, email: str, *, reset: bool = False) -> str:
    """The token of the link that request mails to an address that may use it."""
    event = request(portal, email, reset=reset)
    assert event.payload["template"] == ("reset" if reset else "verify")
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
        lambda details: details.details.get("customer_id") in KNOWN_CUSTOMERS, fields=CUSTOMER_ID
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
    assert "C-9999" not in needed.payload.values()  # the answers are the review page's
    (bell,) = desk.notifications(portal.admin).notifications
    assert bell.payload["contact_id"] == pending.id
    assert desk.verify_password("new@x.test", "a long enough secret") is None
    with pytest.raises(PermissionDenied):
        desk.list_desks(pending)
    (waiting,) = desk.list_pending_signups(portal.admin)
    assert (waiting.contact, waiting.details) == (pending, {"customer_id": "C-9999"})

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
        record = work.accounts.get_token(hash_token(token), TokenPurpose.SIGNUP)
    assert record is not None
    assert record.contact_id == contact.id
    assert token not in repr(record)
    assert from_data(to_data(record), AccountToken) == record


def test_bad_email_is_refused(signup_portal: Portal) -> None:
    with pytest.raises(ValidationError, match="valid e-mail address"):
        signup_portal.desk.request_signup("not-an-address")


INJECTED = "v@y.test\r\nBcc: evil@x.test"
"""An address that would add a header to the e-mail sent to it."""


@pytest.mark.parametrize("address", [INJECTED, "v@y.test\nBcc: evil@x.test", "v@y.test\rX"])
def test_line_breaks_in_addresses_are_refused_wherever_they_enter(
    signup_portal: Portal, address: str
) -> None:
    portal, desk = signup_portal, signup_portal.desk
    before = outbox(portal)
    ticket = portal.open()
    calls: list[Callable[[], object]] = [
        lambda: desk.request_signup(address),
        lambda: desk.add_contact(Contact(email=address, full_name="Vee")),
        lambda: desk.find_contact(address),
        lambda: desk.verify_password(address, "a long enough secret"),
        lambda: desk.add_collaborator(portal.alice, ticket.reference, address),
    ]
    for call in calls:
        with pytest.raises(ValidationError) as caught:
            call()
        assert set(caught.value.errors) == {"email"}
    assert outbox(portal) == before
    with desk._store.unit_of_work() as work:
        assert work.directory.get_contact_by_email("v@y.test") is None
        assert [
            c.email for c in work.directory.find_contacts(ContactQuery()) if "\n" in c.email
        ] == []


# Input that no store keeps: refused alike everywhere, naming the field.


SURROGATE = "\ud800"


def test_broken_text_in_a_signup_is_a_validation_error(signup_portal: Portal) -> None:
    desk = signup_portal.desk
    token = link_token(signup_portal, "dana@x.test")
    refused: list[tuple[dict[str, Any], set[str]]] = [
        ({"full_name": f"Dana{SURROGATE}"}, {"full_name"}),
        ({"full_name": "Dana\x00"}, {"full_name"}),
        ({"full_name": "Dana\nScully"}, {"full_name"}),
        ({"full_name": "D" * 256}, {"full_name"}),
        ({"password": f"long enough {SURROGATE}"}, {"password"}),
        ({"password": "x" * (MAX_PASSWORD_LENGTH + 1)}, {"password"}),
        ({"details": {"customer_id": SURROGATE}}, {"customer_id"}),
        ({"details": {SURROGATE: "C-1"}}, {SURROGATE}),
        ({"details": {"customer_id": "C" * 256}}, {"customer_id"}),
        ({"details": {"customer_id": "C-1\nBcc: x"}}, {"customer_id"}),
        ({"full_name": SURROGATE, "password": SURROGATE}, {"full_name", "password"}),
    ]
    for changes, fields in refused:
        arguments: dict[str, Any] = {"full_name": "Dana", **changes}
        with pytest.raises(ValidationError) as caught:
            desk.complete_signup(token, **arguments)
        assert set(caught.value.errors) == fields, changes
    with pytest.raises(ValidationError) as caught:
        desk.complete_signup(f"{token}{SURROGATE}", "Dana")
    assert set(caught.value.errors) == {"token"}
    with pytest.raises(TypeError, match="full_name"):
        desk.complete_signup(token, cast(str, None))
    # The link still works, with a password of the longest length taken.
    longest = "p" * MAX_PASSWORD_LENGTH
    dana = desk.complete_signup(token, "Dana", longest, details={"customer_id": "C-1"})
    assert desk.verify_password("dana@x.test", longest) == dana


def test_broken_passwords_are_a_validation_error(signup_portal: Portal) -> None:
    desk, agent = signup_portal.desk, signup_portal.agent
    for password in (f"long enough {SURROGATE}", "long enough\x00", "x" * 1025):
        with pytest.raises(ValidationError) as caught:
            desk.set_password(agent, password)
        assert set(caught.value.errors) == {"password"}
        with pytest.raises(ValidationError) as caught:
            desk.verify_password(agent.email, password)
        assert set(caught.value.errors) == {"password"}
    with pytest.raises(ValidationError) as caught:
        desk.add_contact(Contact(email="new@x.test", full_name=f"New{SURROGATE}"))
    assert set(caught.value.errors) == {"full_name"}


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
        self.hashed = 0

    def hash(self, password: str) -> str:
        self.hashed += 1
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


def test_a_decoy_costs_both_paths_the_same_from_the_first_call(clock: FakeClock) -> None:
    """No hashing at construction; the first look-up makes the decoy, whatever the address."""
    costs = {}
    for address in ("nobody@x.test", "known@x.test"):
        hasher = CountingHasher()
        desk = SupportDesk(MemoryStore(), clock=clock, password_hasher=hasher)
        known = desk.add_contact(Contact(email="known@x.test", full_name="Known"))
        desk.set_password(known, "a long enough secret")
        assert hasher.hashed == 1  # the password only: building a desk hashes nothing
        hasher.hashed = 0
        assert desk.verify_password(address, "a wrong guess, that") is None
        first = (hasher.hashed, hasher.verified)
        assert desk.verify_password(address, "a wrong guess, that") is None
        costs[address] = (first, (hasher.hashed, hasher.verified))
    assert costs["nobody@x.test"] == costs["known@x.test"] == ((1, 1), (1, 2))


def test_an_equal_hasher_shares_its_decoy(clock: FakeClock) -> None:
    hasher = ScryptHasher(n=2**4)
    first = SupportDesk(MemoryStore(), clock=clock, password_hasher=hasher)
    second = SupportDesk(MemoryStore(), clock=clock, password_hasher=ScryptHasher(n=2**4))
    assert first.verify_password("nobody@x.test", "guess") is None
    assert second._decoy() == first._decoy()


def test_a_wrong_token_costs_no_password_hash(signup_portal: Portal) -> None:
    hasher = CountingHasher()
    portal = signup_portal
    desk = SupportDesk(portal.desk._store, clock=portal.clock, password_hasher=hasher)
    used = link_token(portal, "used@x.test")
    desk.complete_signup(used, "Used")
    expired = link_token(portal, "late@x.test")
    portal.clock.advance(timedelta(hours=24))
    for token, reason in (("made-up", "unknown"), (used, "already used"), (expired, "expired")):
        with pytest.raises(InvalidToken) as caught:
            desk.complete_signup(token, "Dana", "a long enough secret")
        assert caught.value.reason == reason
    assert hasher.hashed == 0
    desk.complete_signup(link_token(portal, "dana@x.test"), "Dana", "a long enough secret")
    assert hasher.hashed == 1


def test_a_known_address_writes_a_token_that_completes_nothing(signup_portal: Portal) -> None:
    """Both paths store a token; a known address's is stored used and sent to nobody."""
    portal, desk = signup_portal, signup_portal.desk
    store = desk._store
    assert isinstance(store, MemoryStore)
    tokens = store._tables.accounts.signup_tokens
    assert request(portal, portal.alice.email).payload["token"] == ""
    (record,) = tokens.values()
    assert (record.contact_id, record.used_at) == (portal.alice.id, portal.clock.now())
    assert desk.find_contact(portal.alice.email) == portal.alice
    request(portal, "new@x.test")
    assert len(tokens) == 2


# The link's token: the handler's only.


def test_admins_never_read_a_signup_token(signup_portal: Portal) -> None:
    portal, desk = signup_portal, signup_portal.desk
    token = link_token(portal, "dana@x.test")
    pending = desk.list_undelivered(portal.admin, state=DeliveryState.PENDING)
    (signup,) = [e for e in pending if e.event.kind is EventKind.SIGNUP_REQUESTED]
    assert signup.event.payload["token"] == ""
    assert signup.event.payload["email"] == "dana@x.test"
    assert token not in repr(pending)
    # A handler that fails until the event is parked: the report and the list redact it too.
    desk.retry_policy = RetryPolicy(max_attempts=1)

    def failing(event: Event) -> None:
        assert event.kind is not EventKind.SIGNUP_REQUESTED or event.payload["token"] == token
        raise ConnectionError("SMTP down")

    report = desk.dispatch_notifications(failing)
    assert token not in repr(report)
    assert token not in repr(desk.list_undelivered(portal.admin))
    assert desk.complete_signup(token, "Dana").state is ContactState.ACTIVE


def stored_tokens(portal: Portal) -> list[str]:
    with portal.desk._store.unit_of_work() as work:
        logged = [e.payload.get("token", "") for e in work.outbox.list_events()]
        entries = [e.event.payload.get("token", "") for e in work.outbox.find(limit=1000)]
    return [token for token in (*logged, *entries) if token]


def test_a_delivered_signup_token_is_gone_from_the_store(signup_portal: Portal) -> None:
    portal, desk = signup_portal, signup_portal.desk
    token = link_token(portal, "dana@x.test")
    assert stored_tokens(portal) == [token, token]
    mailed: list[Event] = []
    desk.dispatch_notifications(mailed.append)
    (signup,) = [e for e in mailed if e.kind is EventKind.SIGNUP_REQUESTED]
    assert signup.payload["token"] == token
    assert stored_tokens(portal) == []
    assert desk.complete_signup(token, "Dana").state is ContactState.ACTIVE


@pytest.mark.parametrize("parked", [False, True])
def test_an_expired_signup_token_is_gone_after_the_next_dispatch(
    signup_portal: Portal, parked: bool
) -> None:
    portal, desk = signup_portal, signup_portal.desk
    token = link_token(portal, "dana@x.test")
    if parked:
        desk.retry_policy = RetryPolicy(max_attempts=1)
        desk.dispatch_notifications(lambda event: 1 / 0)
    portal.clock.advance(timedelta(hours=24) - timedelta(minutes=2))
    desk.dispatch_notifications(lambda event: 1 / 0)  # retried a minute later
    assert token in stored_tokens(portal)  # not yet expired: kept for a retry
    portal.clock.advance(timedelta(minutes=2))
    mailed: list[Event] = []
    desk.dispatch_notifications(mailed.append)
    assert stored_tokens(portal) == []
    # An event still pending goes out without its dead link; a parked one stays parked.
    signups = [e for e in mailed if e.kind is EventKind.SIGNUP_REQUESTED]
    assert [e.payload["token"] for e in signups] == ([] if parked else [""])
