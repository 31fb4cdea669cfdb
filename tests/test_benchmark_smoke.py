"""The benchmark runs every phase at a tiny size, so its code cannot rot; nothing is timed here."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).parent.parent
PHASES = (
    "first page: created_by_me",
    "first page: organization",
    "first page: collaborating",
    "run_due_timers",
    "open ticket",
    "public update",
    "status change",
)


def test_every_phase_runs_on_memory_and_sqlite(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--stores",
            "memory,sqlite",
            "--scale",
            "0.01",
            "--out",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    (written,) = tmp_path.glob("bench-*.json")
    rows = json.loads(written.read_text())
    for store in ("memory", "sqlite"):
        ran = [row["operation"] for row in rows if row["store"] == store and row["count"] > 0]
        assert [phase for phase in PHASES if not any(op.startswith(phase) for op in ran)] == []
    # SQL statements per operation are counted on SQLite; the pinned counts are the tests'.
    assert all(row["statements_per_op"] for row in rows if row["store"] == "sqlite")
    # Each target measured here is printed with its verdict; commits are timed on SQLite.
    verdicts = [line for line in done.stdout.splitlines() if line.endswith(("met", "MET", "1M)"))]
    assert sum("commit p99" in line for line in verdicts) == 3, done.stdout
    assert sum("of raw sqlite3 replaying" in line for line in verdicts) == 3, done.stdout
    # The three write phases replayed, a transaction for each operation the library did.
    replayed = {row["operation"]: row["count"] for row in rows if row["store"] == "raw"}
    assert len(replayed) == 3 and all(count > 0 for count in replayed.values()), replayed
    assert sum("p50" in line for line in verdicts) == 6, done.stdout
    assert all(row["p99_seconds"] >= row["p50_seconds"] > 0 for row in rows)


def test_the_peer_comparisons_library_phases_run(tmp_path: Path) -> None:
    """The peer's side needs django-helpdesk (``nox -s bench-peer`` installs it); ours runs here."""
    compare = _load(ROOT / "benchmarks" / "peer_compare.py")
    rates = compare.library(5, tmp_path)
    assert set(rates) == set(compare.TARGETS)
    assert all(rate > 0 for rate in rates.values())


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
