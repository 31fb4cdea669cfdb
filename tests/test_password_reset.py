"""Password reset by a single-use e-mail link, on every store: the sign-up link's rules; an
admin disabling an account, and its links with it."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from supportdesk import (
    ActivityKind,
    Contact,
    ContactState,
    DeliveryState,
    Event,
    EventKind,
    FakeClock,
    InvalidToken,
    NotFound,
    PermissionDenied,
    RetryPolicy,
    SignupPolicy,
    Store,
    TicketList,
    TokenPurpose,
    ValidationError,
)
from supportdesk.accounts import hash_token

from .conftest import Portal, build_portal
from .test_accounts import CountingHasher, link_token, outbox, request, with_desk

SECRET = "a long enough secret"
NEW_SECRET = "another long secret"


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture
def accounts(store: Store, clock: FakeClock, hasher: CountingHasher) -> Portal:
    """The usual portal, its desk hashing with ``hasher``; alice has a password."""
    portal = with_desk(build_portal(store, clock), password_hasher=hasher)
    portal.desk.set_password(portal.alice, SECRET)
    hasher.hashed = 0
    return portal


def requested(portal: Portal, email: str) -> Event:
    return request(portal, email, reset=True)


def reset_token(portal: Portal, email: str) -> str:
    return link_token(portal, email, reset=True)


def test_a_reset_link_sets_a_new_password(accounts: Portal) -> None:
    desk, alice = accounts.desk, accounts.alice
    event = requested(accounts, "ALICE@acme.test")
    assert event.kind is EventKind.PASSWORD_RESET_REQUESTED
    assert [(r.contact_id, r.email) for r in event.recipients] == [(alice.id, alice.email)]
    assert event.payload["expires_at"] == (accounts.clock.now() + timedelta(hours=1)).isoformat()
    assert desk.unread_count(alice) == 0  # e-mail only: no feed entry

    assert desk.reset_password(event.payload["token"], NEW_SECRET) == alice
    assert desk.verify_password(alice.email, NEW_SECRET) == alice
    assert desk.verify_password(alice.email, SECRET) is None


def test_a_reset_link_works_once_and_until_it_expires(accounts: Portal) -> None:
    desk = accounts.desk
    token = reset_token(accounts, accounts.alice.email)
    desk.reset_password(token, NEW_SECRET)
    with pytest.raises(InvalidToken, match="password reset link is already used") as caught:
        desk.reset_password(token, "a third long secret")
    assert caught.value.reason == "already used"
    late = reset_token(accounts, accounts.alice.email)
    accounts.clock.advance(timedelta(hours=1))
    with pytest.raises(InvalidToken) as caught:
        desk.reset_password(late, "a third long secret")
    assert caught.value.reason == "expired"
    assert desk.verify_password(accounts.alice.email, NEW_SECRET) == accounts.alice


def test_the_lifetime_of_a_reset_link_is_the_policys(accounts: Portal) -> None:
    accounts.desk.signup_policy = SignupPolicy(reset_token_lifetime=timedelta(minutes=15))
    event = requested(accounts, accounts.alice.email)
    expected = accounts.clock.now() + timedelta(minutes=15)
    assert event.payload["expires_at"] == expected.isoformat()


def test_tokens_work_for_their_own_purpose_only(accounts: Portal) -> None:
    desk = accounts.desk
    desk.request_signup("dana@x.test")
    (signup,) = [e for e in outbox(accounts) if e.kind is EventKind.SIGNUP_REQUESTED]
    with pytest.raises(InvalidToken) as caught:
        desk.reset_password(signup.payload["token"], NEW_SECRET)
    assert caught.value.reason == "unknown"
    reset = reset_token(accounts, accounts.alice.email)
    with pytest.raises(InvalidToken, match="sign-up link is unknown"):
        desk.complete_signup(reset, "Mallory")
    # Neither was used up by the attempt with the other.
    assert desk.complete_signup(signup.payload["token"], "Dana").state is ContactState.ACTIVE
    assert desk.reset_password(reset, NEW_SECRET) == accounts.alice


def test_a_reset_link_does_not_work_for_a_disabled_contact(accounts: Portal) -> None:
    desk, alice = accounts.desk, accounts.alice
    token = reset_token(accounts, alice.email)
    desk.add_contact(attrs.evolve(alice, state=ContactState.DISABLED))
    with pytest.raises(InvalidToken) as caught:
        desk.reset_password(token, NEW_SECRET)
    assert caught.value.reason == "no longer valid"
    with desk._store.unit_of_work() as work:
        assert work.accounts.get_password_hash(alice.id) is not None
        record = work.accounts.get_token(hash_token(token), TokenPurpose.PASSWORD_RESET)
    assert record is not None and record.used_at is None


@pytest.mark.parametrize("who", ["unknown", "disabled", "pending_approval", "unverified"])
def test_an_address_without_an_active_account_gets_the_same_shape_and_no_link(
    accounts: Portal, who: str
) -> None:
    desk = accounts.desk
    emails = {
        "unknown": "nobody@x.test",
        "disabled": "gone@x.test",
        "pending_approval": "waiting@x.test",
        "unverified": "unverified@x.test",
    }
    email = emails[who]
    if who in ("disabled", "pending_approval"):
        state = ContactState(who)
        desk.add_contact(Contact(email=email, full_name="Someone", state=state))
    if who == "unverified":
        desk.request_signup(email)
    fresh = requested(accounts, accounts.alice.email)
    other = requested(accounts, email)
    assert (other.kind, sorted(other.payload), len(other.recipients)) == (
        fresh.kind,
        sorted(fresh.payload),
        len(fresh.recipients),
    )
    assert other.payload["template"] == "no_active_account"
    assert (other.payload["token"], other.payload["expires_at"]) == ("", "")
    (recipient,) = other.recipients
    assert recipient.email == email
    if who == "unknown":
        assert (recipient.contact_id, recipient.full_name) == ("", "")
        with pytest.raises(Exception, match="not found"):
            desk.find_contact(email)


def test_a_new_password_uses_up_the_other_reset_links(accounts: Portal) -> None:
    desk, alice = accounts.desk, accounts.alice
    first, second, third = (reset_token(accounts, alice.email) for _ in range(3))
    desk.reset_password(second, NEW_SECRET)
    with pytest.raises(InvalidToken, match="already used"):
        desk.reset_password(first, "a third long secret")
    desk.set_password(alice, "a password set by alice")
    with pytest.raises(InvalidToken, match="already used"):
        desk.reset_password(third, "a third long secret")
    fourth = reset_token(accounts, alice.email)
    desk.set_password(alice, None)
    with pytest.raises(InvalidToken, match="already used"):
        desk.reset_password(fourth, "a third long secret")
    assert desk.verify_password(alice.email, "a password set by alice") is None


def test_a_wrong_link_costs_no_password_hash(accounts: Portal, hasher: CountingHasher) -> None:
    desk = accounts.desk
    used = reset_token(accounts, accounts.alice.email)
    desk.reset_password(used, NEW_SECRET)
    expired = reset_token(accounts, accounts.alice.email)
    accounts.clock.advance(timedelta(hours=2))
    hasher.hashed = 0
    for token in ("made-up", used, expired):
        with pytest.raises(InvalidToken):
            desk.reset_password(token, "a third long secret")
    assert hasher.hashed == 0


def test_bad_input_leaves_the_link_usable(accounts: Portal) -> None:
    desk = accounts.desk
    token = reset_token(accounts, accounts.alice.email)
    for password, message in (
        ("short", "Use at least 10 characters."),
        ("x" * 1025, "Use at most 1,024 characters (this has 1,025)."),
        ("long enough \ud800", "Use valid text: this has a broken character (a lone surrogate)."),
        ("long enough\x00", "Remove the NUL character."),
    ):
        with pytest.raises(ValidationError) as caught:
            desk.reset_password(token, password)
        assert caught.value.errors == {"password": message}
    for bad in ("\ud800", "a\nb", "x" * 129):
        with pytest.raises(ValidationError) as caught:
            desk.reset_password(bad, NEW_SECRET)
        assert list(caught.value.errors) == ["token"]
    with pytest.raises(TypeError, match="password"):
        desk.reset_password(token, None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as caught:
        desk.request_password_reset("alice@acme.test\r\nBcc: evil@x.test")
    assert list(caught.value.errors) == ["email"]
    assert desk.reset_password(token, NEW_SECRET) == accounts.alice


def test_the_reset_token_is_the_handlers_only(accounts: Portal) -> None:
    desk = accounts.desk
    token = reset_token(accounts, accounts.alice.email)
    pending = desk.list_undelivered(accounts.admin, state=DeliveryState.PENDING)
    (entry,) = [e for e in pending if e.event.kind is EventKind.PASSWORD_RESET_REQUESTED]
    assert entry.event.payload["token"] == ""
    assert token not in repr(pending)
    mailed: list[Event] = []
    desk.dispatch_notifications(mailed.append)
    (sent,) = [e for e in mailed if e.kind is EventKind.PASSWORD_RESET_REQUESTED]
    assert sent.payload["token"] == token
    with desk._store.unit_of_work() as work:
        stored = [e.payload.get("token", "") for e in work.outbox.list_events()]
    assert token not in stored
    assert desk.reset_password(token, NEW_SECRET) == accounts.alice


def test_an_undelivered_reset_token_is_gone_once_it_expires(accounts: Portal) -> None:
    desk = accounts.desk
    desk.retry_policy = RetryPolicy(max_attempts=1)
    token = reset_token(accounts, accounts.alice.email)
    desk.dispatch_notifications(lambda event: 1 / 0)  # parked, token kept until it expires
    accounts.clock.advance(timedelta(hours=1))
    desk.dispatch_notifications(lambda event: None)
    with desk._store.unit_of_work() as work:
        stored = [e.payload.get("token", "") for e in work.outbox.list_events()]
    assert token not in stored


def test_an_admin_disables_an_account_and_its_reset_links_with_it(accounts: Portal) -> None:
    desk, admin, alice = accounts.desk, accounts.admin, accounts.alice
    token = reset_token(accounts, alice.email)
    disabled = desk.set_contact_state(admin, alice.id, ContactState.DISABLED)
    assert disabled == attrs.evolve(alice, state=ContactState.DISABLED)
    assert desk.verify_password(alice.email, SECRET) is None
    with pytest.raises(PermissionDenied):
        desk.list_desks(disabled)
    active = desk.set_contact_state(admin, alice.id, ContactState.ACTIVE)
    assert desk.verify_password(alice.email, SECRET) == active == alice
    with pytest.raises(InvalidToken) as caught:  # used up when she was disabled
        desk.reset_password(token, NEW_SECRET)
    assert caught.value.reason == "already used"


def test_only_admins_switch_accounts_and_only_between_active_and_disabled(
    accounts: Portal,
) -> None:
    desk, admin, alice = accounts.desk, accounts.admin, accounts.alice
    with pytest.raises(PermissionDenied):
        desk.set_contact_state(accounts.agent, alice.id, ContactState.DISABLED)
    with pytest.raises(PermissionDenied, match="another admin must"):
        desk.set_contact_state(admin, admin.id, ContactState.DISABLED)
    with pytest.raises(ValidationError) as caught:
        desk.set_contact_state(admin, alice.id, ContactState.ERASED)
    assert caught.value.errors == {"state": "set active or disabled, not erased"}
    desk.request_signup("dana@x.test")
    dana = desk.find_contact("dana@x.test")
    with pytest.raises(ValidationError) as caught:
        desk.set_contact_state(admin, dana.id, ContactState.ACTIVE)
    assert caught.value.errors == {
        "contact_id": "dana@x.test is pending_verification, not active or disabled"
    }
    with pytest.raises(NotFound):
        desk.set_contact_state(admin, "nobody", ContactState.DISABLED)
    with pytest.raises(TypeError, match="state"):
        desk.set_contact_state(admin, alice.id, "disabled")  # type: ignore[arg-type]
    assert desk.get_contact(alice.id) == alice


def test_a_disabled_account_is_off_its_queued_mail_and_its_tickets_and_told_when_back(
    accounts: Portal,
) -> None:
    desk, admin, agent, alice = accounts.desk, accounts.admin, accounts.agent, accounts.alice
    ticket = accounts.open()
    desk.assign(admin, ticket.reference, agent.id)
    desk.share_update(agent, ticket.reference, "Here is what we found")  # waits in the outbox
    desk.set_contact_state(admin, alice.id, ContactState.DISABLED)
    desk.set_contact_state(admin, agent.id, ContactState.DISABLED)

    sent: list[Event] = []
    desk.dispatch_notifications(sent.append)
    reached = {r.contact_id for event in sent for r in event.recipients}
    assert alice.id not in reached and agent.id not in reached
    unassigned = desk.list_tickets(admin, TicketList.UNASSIGNED, open=True).tickets
    assert [row.reference for row in unassigned] == [ticket.reference]
    log = desk.view_ticket(admin, ticket.reference).activities
    assert (log[-1].kind, log[-1].actor_id) == (ActivityKind.UNASSIGNED, admin.id)

    desk.set_contact_state(admin, alice.id, ContactState.ACTIVE)
    (welcome,) = [e for e in outbox(accounts) if e.kind is EventKind.APPROVED]
    assert ([r.contact_id for r in welcome.recipients], welcome.actor_id) == ([alice.id], admin.id)


def test_a_page_checks_its_link_before_the_person_fills_in_the_form(accounts: Portal) -> None:
    desk, alice = accounts.desk, accounts.alice
    token = reset_token(accounts, alice.email)
    desk.check_link(token, TokenPurpose.PASSWORD_RESET)  # works, and is not used up by asking
    desk.check_link(token, "password_reset")  # type: ignore[arg-type]
    with pytest.raises(InvalidToken) as caught:
        desk.check_link(token, TokenPurpose.SIGNUP)  # a reset link signs nobody up
    assert caught.value.reason == "unknown"
    desk.reset_password(token, NEW_SECRET)
    with pytest.raises(InvalidToken) as caught:
        desk.check_link(token, TokenPurpose.PASSWORD_RESET)
    assert caught.value.reason == "already used"
    late = reset_token(accounts, alice.email)
    accounts.clock.advance(timedelta(hours=2))
    with pytest.raises(InvalidToken) as caught:
        desk.check_link(late, TokenPurpose.PASSWORD_RESET)
    assert caught.value.reason == "expired"
    with pytest.raises(ValidationError):
        desk.check_link("x" * 129, TokenPurpose.PASSWORD_RESET)
    with pytest.raises(TypeError, match="purpose"):
        desk.check_link(late, None)  # type: ignore[arg-type]
