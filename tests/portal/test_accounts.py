"""Accounts in a real browser: the Help Center's sign-up by e-mail link and a first request,
the case portal's sign-up with its conditional fields and review, a password reset, profile and
notification settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from supportdesk import Event, EventKind, FakeClock, SupportDesk

from .conftest import snap
from .test_customer_journey import log_in


def link_token(desk: SupportDesk, email: str, kind: EventKind) -> str:
    """The token of the last link e-mailed to ``email``, as the mail handler would get it."""
    sent: list[Event] = []
    desk.dispatch_notifications(sent.append)
    (event,) = [e for e in sent if e.kind is kind and e.payload.get("email") == email]
    return event.payload["token"]


def ask_for_a_link(page: Any, portal_url: str, email: str) -> None:
    page.goto(f"{portal_url}/login")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("button", name="Send me a link").click()
    assert email in page.get_by_role("status").inner_text()


def test_a_help_center_sign_up_by_link_then_a_first_request(
    portal_url: str, portal_desk: SupportDesk, portal_clock: FakeClock, browser_page: Any
) -> None:
    page = browser_page
    ask_for_a_link(page, portal_url, "frank@acme.test")
    token = link_token(portal_desk, "frank@acme.test", EventKind.SIGNUP_REQUESTED)
    page.goto(f"{portal_url}/signup?token={token}")
    # An address of an approved domain needs its name and password only.
    page.get_by_label("Full name").fill("Frank Payer")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    assert "Your account is ready, Frank Payer." in page.get_by_role("status").inner_text()
    log_in(page, portal_url, "frank@acme.test", "a long enough password")
    portal_clock.advance(timedelta(minutes=1))

    page.get_by_role("link", name="General Request").click()
    page.get_by_label("Description").fill("Where do I find the May statements?")
    page.get_by_role("button", name="Send").click()
    assert page.locator("span.error").all_inner_texts() == ["Enter a summary."]
    assert page.get_by_label("Description").input_value() == "Where do I find the May statements?"
    page.get_by_label("Summary").fill("May statements")
    page.get_by_label("Attachments").set_input_files(
        {"name": "statement.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}
    )
    page.get_by_role("button", name="Send").click()
    reference = page.locator("[data-reference]").inner_text()
    assert "statement.pdf" in page.locator("[data-attachments]").inner_text()

    page.get_by_role("link", name="Requests").click()
    assert "Created by me (1)" in page.get_by_role("navigation", name="lists").inner_text()
    assert page.get_by_role("row").filter(has_text=reference).count() == 1
    portal_desk.dispatch_notifications(lambda event: None)  # the worker's round
    page.reload()
    assert page.locator("[data-unread-count]").inner_text() == "2"
    page.get_by_role("link", name="Notifications").click()
    # The confirmation, newest first, above the welcome.
    assert page.locator("[data-feed] li").all_inner_texts() == [
        f"ticket received {reference} May statements",
        "approved",
    ]


def test_a_sign_up_without_a_customer_id_waits_for_review(
    portal_url: str, portal_desk: SupportDesk, browser_page: Any
) -> None:
    page = browser_page
    ask_for_a_link(page, portal_url, "erin@initech.test")
    token = link_token(portal_desk, "erin@initech.test", EventKind.SIGNUP_REQUESTED)
    page.goto(f"{portal_url}/signup?token={token}")
    # The customer id is asked until "I don't know my customer id" is ticked; then the
    # company and state are.
    assert page.get_by_role("textbox", name="Customer ID").is_visible()
    assert not page.get_by_label("Company").is_visible()
    page.get_by_label("I don't know my customer id").check()
    assert not page.get_by_role("textbox", name="Customer ID").is_visible()
    page.get_by_label("Full name").fill("Erin Unsure")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    # Every error at once: both fields now required.
    assert page.locator("span.error").count() == 2
    page.get_by_label("Company").fill("Initech")
    page.get_by_label("State").select_option("NJ")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    assert "an administrator will review" in page.get_by_role("status").inner_text()

    log_in(page, portal_url, "admin@portal.test")
    page.get_by_role("link", name="Sign-ups").click()
    row = page.get_by_role("row").filter(has_text="erin@initech.test")
    # What Erin answered, by the form's labels, for the admin to go by.
    answers = row.locator("[data-answers]").inner_text().split("\n")
    assert answers == ["I don't know my customer id", "yes", "Company", "Initech", "State", "NJ"]
    snap(page, "signups")
    row.get_by_role("button", name="Approve").click()
    assert "Nobody is waiting." in page.get_by_role("table").inner_text()
    page.get_by_role("button", name="Log out").click()
    log_in(page, portal_url, "erin@initech.test", "a long enough password")


def test_a_password_reset_and_the_profile(
    portal_url: str, portal_desk: SupportDesk, browser_page: Any
) -> None:
    page = browser_page
    page.goto(f"{portal_url}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("E-mail").fill("alice@acme.test")
    page.get_by_role("button", name="Send me a link").click()
    token = link_token(portal_desk, "alice@acme.test", EventKind.PASSWORD_RESET_REQUESTED)
    page.goto(f"{portal_url}/password?token={token}")
    page.get_by_label("New password").fill("a brand new password")
    page.get_by_role("button", name="Set the password").click()
    page.get_by_label("E-mail").fill("alice@acme.test")
    page.get_by_label("Password").fill("a brand new password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Welcome to the Help Center").wait_for()

    page.get_by_role("link", name="Alice Payer").click()
    page.get_by_label("Full name").fill("Alice P. Payer")
    page.get_by_label("public update").uncheck()
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("link", name="Alice P. Payer").is_visible()
    assert not page.get_by_label("public update").is_checked()
    alice = portal_desk.find_contact("alice@acme.test")
    assert not portal_desk.get_notification_settings(alice).emails(EventKind.PUBLIC_UPDATE)
