"""A request's life in a real browser: the confirmation in the bell, a collaborator of another
organisation, a reopen by an update while resolved, a follow-up of a closed request linked both
ways; and the statements each page costs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from examples.portal.seed import PASSWORD, options

from supportdesk import Contact, FakeClock, Submission, SupportDesk
from supportdesk.storage.sql import SqlStore

from ..sql.test_sql_store import statements
from .conftest import client_as, request_type_named
from .test_customer_journey import log_in, raise_incident


def test_a_request_from_confirmation_to_follow_up(
    portal_url: str, portal_desk: SupportDesk, browser_page: Any
) -> None:
    carol = portal_desk.add_contact(Contact(email="carol@globex.test", full_name="Carol Provider"))
    portal_desk.set_password(carol, PASSWORD)
    page = browser_page
    log_in(page, portal_url, "alice@acme.test")
    reference = raise_incident(page, "Portal down")
    page.get_by_role("link", name="Notifications").click()
    assert f"ticket received {reference}" in page.locator("[data-feed]").inner_text()

    page.goto(f"{portal_url}/requests/{reference}")
    page.get_by_label("Share with (e-mail)").fill("carol@globex.test")
    page.get_by_role("button", name="+ Add").click()
    page.get_by_role("button", name="Resolve this issue").click()
    # An update while resolved takes it back to support.
    page.get_by_label("Update").fill("It broke again.")
    page.get_by_role("button", name="Share", exact=True).click()
    assert page.locator("[data-status]").inner_text() == "Waiting for support"
    page.get_by_role("button", name="Close").click()
    page.get_by_label("Update").fill("And again, after closing.")
    page.get_by_role("button", name="Share", exact=True).click()
    follow_up = page.locator("[data-reference]").inner_text()
    assert follow_up != reference
    page.get_by_role("link", name=reference).click()  # the follow-up names the closed one
    page.get_by_role("link", name=follow_up).click()  # which names its follow-up
    page.get_by_role("button", name="Log out").click()

    log_in(page, portal_url, "carol@globex.test")
    page.goto(f"{portal_url}/requests?list=shared_with_me&state=closed")
    assert page.get_by_role("row").filter(has_text=reference).count() == 1


def test_each_page_costs_a_bounded_number_of_statements(tmp_path: Path) -> None:
    desk = SupportDesk.from_url(
        f"sqlite:///{tmp_path / 'portal.db'}", create=True, clock=FakeClock(), **options()
    )
    store = desk._store
    assert isinstance(store, SqlStore)
    client = client_as(desk, "alice@acme.test")
    alice = desk.find_contact("alice@acme.test")
    general = request_type_named(desk, alice, "General Request")
    tickets = [
        desk.open_ticket(alice, general.id, Submission(summary=f"Request {n}", description="x"))
        for n in range(30)
    ]
    # The visitor (1) and the bell (2), then the page's own: the list with every tab's
    # count (3) and the request types to filter by (2), the request with its people, log and
    # files (5), or the home page's desks, every desk's request types and the announcements
    # (2 each); none per row.
    pages = (("/requests", 8), (f"/requests/{tickets[0].reference}", 8), ("/", 9))
    for path, pinned in pages:
        with statements(store) as sent:
            assert client.get(path).status_code == 200
        counted = [s for s in sent if not s.startswith("BEGIN")]
        assert len(counted) == pinned, (path, sent)
    desk.dispose()
