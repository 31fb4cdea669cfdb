"""The soak: several worker processes on one Postgres and one S3, a kill and a restart mid-run.

The test suite runs the short profile (3 workers, 20 s); ``nox -s soak`` the
full one (8 workers, 3 minutes).  See :mod:`.scenario` for the settings and
their environment variables, :mod:`.driver` for the faults and
:mod:`.checker` for what is checked.  The figures are printed in the session's
summary and written to ``figures.txt`` in the test's folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from supportdesk import FakeClock, SupportDesk
from supportdesk.storage.sql import SqlStore

from ..conftest import record_figures
from .checker import check
from .driver import PgFault, run_soak
from .scenario import T0, FaultPlan, Settings, seed_portal
from .worker import S3Config, WorkerConfig


@pytest.mark.postgres
@pytest.mark.s3
def test_soak_loses_no_acknowledged_write_through_a_kill_and_a_database_restart(
    request: pytest.FixtureRequest,
    soak_settings: Settings,
    soak_url: str,
    soak_s3: S3Config,
    pg_fault: PgFault,
    tmp_path: Path,
) -> None:
    plan = FaultPlan.draw(soak_settings)
    store = SqlStore.from_url(soak_url)
    try:
        seeded = seed_portal(SupportDesk(store, clock=FakeClock(T0)))
    finally:
        store.close()
    base = WorkerConfig(
        index=0,
        incarnation=0,
        url=soak_url,
        s3=soak_s3,
        seeded=seeded,
        folder=str(tmp_path),
        seed=soak_settings.seed,
        crash=None,
    )

    report = run_soak(base, soak_settings, plan, pg_fault)
    figures = check(soak_url, soak_s3, tmp_path, report)

    rendered = figures.render()
    (tmp_path / "figures.txt").write_text(rendered + "\n", encoding="utf-8")
    record_figures(request.config, "soak", "postgres", rendered)
    assert figures.violations == [], rendered
    assert figures.lost == [], rendered
    assert report.kill is not None and report.outage is not None, rendered
    assert sum(figures.acked.values()) > 0, rendered
    if report.outage.method == "restart":
        # Workers were busy when the server went away: someone must have felt it.
        assert sum(figures.retries.values()) > 0, rendered
