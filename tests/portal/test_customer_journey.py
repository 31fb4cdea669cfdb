"""A customer in a real browser: log in, raise a request with its form, find it, follow it up."""

from __future__ import annotations

from typing import Any

from examples.portal.seed import PASSWORD

from .conftest import snap


def log_in(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Welcome to the Help Center").wait_for()


def raise_incident(page: Any, summary: str) -> str:
    """Raise an incident from the home page; its reference."""
    page.get_by_role("link", name="Help Center").click()
    page.get_by_role("link", name="Incident").click()
    page.get_by_label("Summary").fill(summary)
    page.get_by_label("Description").fill("Error 502 on every page.")
    page.get_by_role("button", name="Send").click()
    reference: str = page.locator("[data-reference]").inner_text()
    return reference


def test_a_customer_raises_a_request_and_follows_it_up(portal_url: str, browser_page: Any) -> None:
    page = browser_page
    page.goto(f"{portal_url}/requests")
    assert page.url.endswith("/login")  # nothing without logging in
    log_in(page, portal_url, "alice@acme.test")
    snap(page, "home")

    page.get_by_role("link", name="Incident").click()
    page.get_by_role("button", name="Send").click()
    snap(page, "form-with-errors")
    # Every field's error at once, and what was typed stays.
    assert page.get_by_role("alert").inner_text() == "Please correct the fields below."
    assert page.locator("span.error").count() == 2  # summary and description
    page.get_by_label("Summary").fill("Portal down")
    page.get_by_label("Description").fill("Error 502 on every page.")
    page.get_by_label("Attachments").set_input_files(
        {"name": "error.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + bytes(32)}
    )
    page.get_by_role("button", name="Send").click()

    assert "error.png (image/png)" in page.locator("[data-attachments]").inner_text()
    confirmation = page.get_by_role("status").inner_text()
    reference = page.locator("[data-reference]").inner_text()
    assert confirmation == f"We received your request: {reference}."
    assert page.locator("[data-status]").inner_text() == "Waiting for support"

    page.get_by_role("link", name="Requests").click()
    snap(page, "requests")
    row = page.get_by_role("row").filter(has_text=reference)
    assert row.get_by_role("cell").all_inner_texts() == [
        "Incident",
        reference,
        "Portal down",
        "Waiting for support",
        "Customer Service Desk",
        "Alice Payer",
    ]
    assert "Created by me (1)" in page.get_by_role("navigation", name="lists").inner_text()
    page.get_by_label("Request type").select_option(label="General Request")
    page.get_by_role("button", name="Filter").click()
    assert page.get_by_role("row").filter(has_text=reference).count() == 0
    page.get_by_label("Request type").select_option(label="Incident")
    page.get_by_role("button", name="Filter").click()
    assert page.get_by_role("row").filter(has_text=reference).count() == 1

    row.get_by_role("link", name=reference).click()
    page.get_by_label("Update").fill("Still down at noon.")
    page.get_by_role("button", name="Share", exact=True).click()
    assert "Still down at noon." in page.locator("[data-activity]").inner_text()
    snap(page, "request")

    # Bob of the same organisation sees it under "All", not under his own.
    page.get_by_role("button", name="Log out").click()
    log_in(page, portal_url, "bob@acme.test")
    page.goto(f"{portal_url}/requests?list=all")
    assert page.get_by_role("row").filter(has_text=reference).count() == 1
    page.goto(f"{portal_url}/requests?list=created_by_me")
    assert page.get_by_role("row").filter(has_text=reference).count() == 0
