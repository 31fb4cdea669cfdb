"""The request page in a real browser: sharing, files by browse and by drop, the bell, actions;
and an agent's side of the same request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from examples.portal.seed import PASSWORD

from supportdesk import Contact, FakeClock, SupportDesk, Worker

from .conftest import snap
from .test_customer_journey import log_in, raise_incident

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def test_a_customer_shares_attaches_and_resolves(portal_url: str, browser_page: Any) -> None:
    page = browser_page
    log_in(page, portal_url, "alice@acme.test")
    reference = raise_incident(page, "Claims missing")

    page.get_by_label("Share with (e-mail)").fill("nobody@elsewhere.test")
    page.get_by_role("button", name="+ Add").click()
    assert "not an active contact" in page.get_by_role("alert").inner_text()
    page.get_by_label("Share with (e-mail)").fill("bob@acme.test")
    page.get_by_role("button", name="+ Add").click()
    shared = page.get_by_role("region", name="Shared with")
    assert "Alice Payer" in shared.inner_text() and "Bob Payer" in shared.inner_text()
    page.get_by_role("button", name="Stop sharing with Bob Payer").click()
    assert "Bob Payer" not in shared.inner_text()
    page.get_by_role("button", name="Stop sharing with the organisation").click()
    assert "Not shared with your organisation." in shared.inner_text()

    page.get_by_label("Browse").set_input_files(
        {"name": "screen.png", "mimeType": "image/png", "buffer": PNG}
    )
    page.get_by_role("button", name="Attach").click()
    # Dropped, as a person drags a file from their desktop.
    page.evaluate(
        """() => {
            const data = new DataTransfer();
            data.items.add(new File([new Uint8Array([37, 80, 68, 70, 45, 49, 46, 52, 10])],
                                    "claims.pdf", {type: "application/pdf"}));
            document.getElementById("drop").dispatchEvent(
                new DragEvent("drop", {dataTransfer: data, bubbles: true}));
        }"""
    )
    page.wait_for_load_state()
    files = page.locator("[data-attachments]").inner_text()
    assert "screen.png (image/png)" in files and "claims.pdf (application/pdf)" in files

    page.get_by_role("button", name="Turn notifications off").click()
    page.get_by_role("button", name="Turn notifications on").wait_for()
    page.get_by_role("button", name="Resolve this issue").click()
    assert page.locator("[data-status]").inner_text() == "Resolved"
    page.goto(f"{portal_url}/requests?state=closed")
    assert page.get_by_role("row").filter(has_text=reference).count() == 1


def _raised_and_opened_by_the_agent(page: Any, portal_url: str, summary: str) -> str:
    """Alice raises an incident; the agent logs in and opens it.  Its reference."""
    log_in(page, portal_url, "alice@acme.test")
    reference = raise_incident(page, summary)
    page.get_by_role("button", name="Log out").click()
    log_in(page, portal_url, "agent@portal.test")
    page.goto(f"{portal_url}/requests/{reference}")
    return reference


def test_an_agent_takes_a_request_and_the_customer_hears_of_it(
    portal_url: str, browser_page: Any
) -> None:
    page = browser_page
    reference = _raised_and_opened_by_the_agent(page, portal_url, "Portal down")
    page.get_by_label("Assignee").select_option(label="Ada Admin")
    page.get_by_role("button", name="Assign", exact=True).click()
    assert page.locator("[data-assignee]").inner_text() == "Ada Admin"
    page.get_by_role("button", name="Assign to me").click()
    assert page.locator("[data-assignee]").inner_text() == "Sam Agent"
    page.get_by_label("Internal note").fill("Load balancer again.")
    page.get_by_role("button", name="Add internal note").click()
    page.get_by_label("Question for the customer").fill("Which pages fail?")
    page.get_by_role("button", name="Ask the customer").click()
    assert page.locator("[data-status]").inner_text() == "Waiting for customer"
    page.get_by_label("Priority").select_option("HIGH")
    page.get_by_role("button", name="Set priority").click()
    assert page.locator("[data-priority]").inner_text() == "High"
    page.get_by_role("button", name="Log out").click()

    log_in(page, portal_url, "alice@acme.test")
    assert int(page.locator("[data-unread-count]").inner_text()) >= 1
    page.get_by_role("link", name="Notifications").click()
    assert reference in page.locator("[data-feed]").inner_text()
    page.goto(f"{portal_url}/requests/{reference}")
    activity = page.locator("[data-activity]").inner_text()
    assert "Which pages fail?" in activity
    assert "Load balancer again." not in activity  # internal notes stay with the staff


def test_an_agent_waits_retypes_resolves_and_reopens(portal_url: str, browser_page: Any) -> None:
    page = browser_page
    _raised_and_opened_by_the_agent(page, portal_url, "Claims rejected")
    page.get_by_label("Waiting for").fill("The clearing house")
    page.get_by_role("button", name="Wait for a third party").click()
    assert page.locator("[data-status]").inner_text() == "Waiting for support"  # JSM's label
    page.get_by_label("Request type").select_option(label="General Request")
    page.get_by_role("button", name="Change request type").click()
    assert page.locator("[data-request-type]").inner_text() == "General Request"
    page.get_by_role("button", name="Resolve this issue").click()
    assert page.locator("[data-status]").inner_text() == "Resolved"
    page.get_by_role("button", name="Reopen").click()
    assert page.locator("[data-status]").inner_text() not in ("Resolved", "Closed")
    activity = page.locator("[data-activity]").inner_text()
    assert "The clearing house" in activity and "General Request" in activity


def test_an_agent_works_the_queues(
    portal_url: str, portal_clock: FakeClock, browser_page: Any
) -> None:
    page = browser_page
    portal_clock.advance(timedelta(hours=5))  # 09:00 in New York: the desks' hours have begun
    log_in(page, portal_url, "alice@acme.test")
    first = raise_incident(page, "Portal down")
    portal_clock.advance(timedelta(minutes=10))
    second = raise_incident(page, "Claims missing")
    page.get_by_role("button", name="Log out").click()

    log_in(page, portal_url, "agent@portal.test")
    page.get_by_role("link", name="Requests").click()
    page.get_by_role("link", name="Unassigned").click()
    unassigned = page.get_by_role("table").inner_text()
    assert first in unassigned and second in unassigned
    page.get_by_role("link", name=second).click()
    page.get_by_role("button", name="Assign to me").click()
    page.goto(f"{portal_url}/requests?list=assigned_to_me")
    mine = page.get_by_role("table").inner_text()
    assert second in mine and first not in mine
    # Both wait for a first response: the older one breaches first.
    page.goto(f"{portal_url}/requests?list=desks&sort=sla")
    rows = page.get_by_role("row").all_inner_texts()[1:]
    assert [first in rows[0], second in rows[1]] == [True, True]
    assert "2026-01-05 18:00" in rows[0] and "2026-01-05 18:10" in rows[1]  # 4 working hours
    snap(page, "agent-queue")


def test_the_worker_resolves_a_request_nobody_answers(
    portal_url: str, portal_desk: SupportDesk, portal_clock: FakeClock, browser_page: Any
) -> None:
    page = browser_page
    log_in(page, portal_url, "alice@acme.test")
    reference = raise_incident(page, "Portal down")
    portal_desk.ask_customer(portal_desk.find_contact("agent@portal.test"), reference, "Which?")
    mailed: list[str] = []
    worker = Worker(portal_desk, handler=lambda event: mailed.append(event.kind.value))
    # Silence, day after day, on the desk's office hours: reminders, then auto-resolve.
    for _ in range(7):
        portal_clock.advance(timedelta(days=1))
        worker.run_once()
    page.goto(f"{portal_url}/requests/{reference}")
    assert page.locator("[data-status]").inner_text() == "Resolved"
    assert "auto resolved" in page.locator("[data-activity]").inner_text()
    assert "auto_resolved" in mailed
    page.get_by_role("link", name="Notifications").click()
    assert f"auto resolved {reference}" in page.locator("[data-feed]").inner_text()
    assert "reminder due" in page.locator("[data-feed]").inner_text()

    # A customer of a third organisation finds nothing at its address.
    zoe = portal_desk.add_contact(Contact(email="zoe@elsewhere.test", full_name="Zoe"))
    portal_desk.set_password(zoe, PASSWORD)
    page.get_by_role("button", name="Log out").click()
    log_in(page, portal_url, "zoe@elsewhere.test")
    answer = page.goto(f"{portal_url}/requests/{reference}")
    assert answer is not None and answer.status == 404
