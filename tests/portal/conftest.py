"""The example portal served on loopback, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from examples.portal.app import create_app
from examples.portal.seed import PASSWORD, options
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from supportdesk import Contact, FakeClock, RequestType, SupportDesk
from supportdesk.storage.memory import MemoryStore

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def portal_clock() -> FakeClock:
    """The test's hold on the portal's time: the example's own settings use the real clock."""
    return FakeClock()


@pytest.fixture
def portal_desk(portal_clock: FakeClock) -> SupportDesk:
    """The portal's desk, in memory: the test reads the mail the portal sends through it."""
    return SupportDesk(MemoryStore(), clock=portal_clock, **options())


@pytest.fixture
def portal_url(portal_desk: SupportDesk) -> Iterator[str]:
    """The portal on a fresh in-memory desk, served from a thread on a free port."""
    app = create_app(portal_desk)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def browser_page() -> Iterator[object]:
    """A page of a headless Chromium; in CI a missing browser fails instead of skipping."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Chromium at {CHROMIUM}: .ci/run installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(10_000)
            yield page
        finally:
            browser.close()


SHOTS = os.environ.get("SUPPORTDESK_SCREENSHOTS")
"""Where the browser tests save their screenshots (docs/images/portal for docs/portal.md)."""


def snap(page: Any, name: str) -> None:
    """Save a screenshot of ``page`` as ``name``.png when screenshots are asked for."""
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def client_as(desk: SupportDesk, email: str) -> FlaskClient:
    """Flask's test client for the portal on ``desk``, logged in as ``email``."""
    client = create_app(desk).test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf_token(page)})
    return client


def csrf_token(page: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def request_type_named(desk: SupportDesk, actor: Contact, name: str) -> RequestType:
    """The request type called ``name`` on any of the desks ``actor`` sees."""
    return next(
        t
        for d in desk.list_desks(actor)
        for t in desk.list_request_types(actor, d.id)
        if t.name == name
    )
