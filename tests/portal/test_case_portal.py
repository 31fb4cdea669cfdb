"""The case portal's screens in a real browser: a case form chosen by product then category,
the home page's announcements, and site search."""

from __future__ import annotations

from typing import Any

from .test_customer_journey import log_in


def test_a_case_is_logged_by_product_then_category(portal_url: str, browser_page: Any) -> None:
    page = browser_page
    log_in(page, portal_url, "alice@acme.test")
    page.get_by_role("link", name="Support Case").click()
    category = page.get_by_label("Category")
    assert not category.is_visible()  # no product chosen, no category to offer
    page.get_by_label("Product").select_option("Eligibility API")
    offered = [o for o in category.locator("option").all() if not o.evaluate("o => o.hidden")]
    assert [o.inner_text() for o in offered] == ["", "Access", "Billing"]
    category.select_option("Billing")
    page.get_by_label("Summary").fill("Eligibility API invoices")
    page.get_by_label("Description").fill("Billed twice in May.")
    page.get_by_role("textbox", name="Customer ID").fill("C12")
    page.get_by_role("button", name="Send").click()
    # The pattern and the missing username, at once; the answers stay.
    errors = page.locator("span.error").all_inner_texts()
    assert len(errors) == 2
    assert page.get_by_label("Summary").input_value() == "Eligibility API invoices"
    page.get_by_role("textbox", name="Customer ID").fill("C123456")
    page.get_by_label("Username").fill("alice.p")
    page.get_by_label("Product").select_option("Eligibility API")
    page.get_by_label("Category").select_option("Billing")
    page.get_by_role("button", name="Send").click()
    assert page.get_by_role("status").inner_text().startswith("We received your request: CASE-")
    assert page.locator("[data-status]").inner_text() == "New"  # the case desk's own words


def test_the_home_page_announces_and_search_finds_as_you_type(
    portal_url: str, browser_page: Any
) -> None:
    page = browser_page
    log_in(page, portal_url, "alice@acme.test")
    assert "Scheduled maintenance on Saturday" in page.get_by_label("Announcement").inner_text()
    page.get_by_role("searchbox", name="Search").fill("sft")
    page.get_by_role("button", name="Search").click()
    assert "Setting up SFTP for claim files" in page.locator("[data-results]").inner_text()
    page.get_by_role("link", name="Setting up SFTP for claim files").click()
    assert "port 22" in page.get_by_role("main").inner_text()
    page.get_by_role("link", name="Knowledge base").click()
    assert "How do I reset my password?" in page.get_by_label("FAQ").inner_text()
