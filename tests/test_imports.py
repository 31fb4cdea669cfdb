"""What importing supportdesk costs a host: no database library for a memory desk, no log noise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )


def test_an_in_memory_desk_imports_neither_sqlalchemy_nor_alembic() -> None:
    found = _run(
        "import sys, supportdesk\n"
        "supportdesk.SupportDesk.in_memory()\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'boto3') if m in sys.modules))"
    )
    assert found.stdout.strip() == "[]"


def test_the_sql_store_is_still_exported_and_reports_the_public_module() -> None:
    found = _run("import supportdesk; print(supportdesk.SqlStore.__module__)")
    assert found.stdout.strip() == "supportdesk"


def test_migrating_logs_nothing_unless_the_host_asks_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    migrate = (
        "import logging\n"
        "logging.basicConfig(level=logging.INFO)\n"
        "{extra}"
        "from supportdesk import SupportDesk\n"
        f"SupportDesk.from_url({url!r}, create=True).dispose()\n"
    )
    quiet = _run(migrate.format(extra=""))
    assert "alembic" not in quiet.stderr
    (tmp_path / "portal.db").unlink()
    asked = _run(migrate.format(extra="logging.getLogger('alembic').setLevel(logging.INFO)\n"))
    assert "INFO:alembic" in asked.stderr
