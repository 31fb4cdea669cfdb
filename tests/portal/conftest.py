"""The example portal served on loopback, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from examples.portal.app import create_app
from examples.portal.seed import options
from werkzeug.serving import make_server

from supportdesk import FakeClock, SupportDesk
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
