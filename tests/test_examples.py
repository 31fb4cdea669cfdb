"""The quickstart runs on a SQLite file: sign-ups, and both timer policies to the end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_quickstart_prints_the_activity_logs() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    out = done.stdout
    assert out.startswith("database: sqlite:///")
    for line in ("reminder_sent        timer=reminder_3", "auto_resolved", "auto_closed"):
        assert line in out
    assert "follow_up_created    follow_up_of=CSD-1" in out
    assert "portal-screenshot.png (image/png, 72 bytes)" in out
    # Each desk's own words for a new ticket: JSM's on the service desk, the default on cases.
    assert "Portal down                    Waiting for support    Customer Service Desk" in out
    assert "Eligibility API returns 500    New                    Customer Support Portal" in out
    assert "sign-up: dana@umbrella.test active, erin@initech.test pending_approval" in out
    assert "sign-up: erin@initech.test active once approved" in out
    alice_view = out.split("Alice sees no internal notes:")[1]
    assert "internal_note" not in alice_view
    assert "internal_note" in out.split("Alice sees no internal notes:")[0]
