"""Benchmarks of the desk's use cases per store: prints a table and writes JSON.

``python benchmarks/run.py [--stores memory,sqlite,postgres] [--scale N] [--out DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import attrs

from supportdesk import (
    Contact,
    Desk,
    FakeClock,
    MemoryStore,
    Organization,
    RequestType,
    Role,
    Store,
    Submission,
    SupportDesk,
    TicketList,
)


@attrs.frozen
class Result:
    """One measured operation."""

    store: str
    operation: str
    count: int
    seconds: float
    peak_memory_bytes: int

    @property
    def ops_per_second(self) -> float:
        return self.count / self.seconds if self.seconds else float("inf")


@attrs.frozen
class Bench:
    """A desk with one customer, one agent and one request type, ready to be measured."""

    desk: SupportDesk
    clock: FakeClock
    customer: Contact
    agent: Contact
    request_type: RequestType


def measure(store: str, operation: str, count: int, step: Callable[[int], object]) -> Result:
    """Run ``step`` ``count`` times; time it and trace its peak memory."""
    tracemalloc.start()
    started = time.perf_counter()
    for index in range(count):
        step(index)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Result(store, operation, count, seconds, peak)


def setup(store: Store) -> Bench:
    clock = FakeClock()
    desk = SupportDesk(store, clock=clock)
    acme = desk.add_organization(Organization(name="Acme"))
    help_desk = desk.add_desk(Desk(key="HHA", name="Help"))
    request_type = desk.add_request_type(RequestType(desk_id=help_desk.id, name="General"))
    customer = desk.add_contact(
        Contact(email="alice@acme.test", full_name="Alice", organization_id=acme.id)
    )
    agent = desk.add_contact(
        Contact(
            email="agent@desk.test",
            full_name="Agent",
            role=Role.AGENT,
            desk_ids=frozenset({help_desk.id}),
        )
    )
    return Bench(desk, clock, customer, agent, request_type)


def run_store(name: str, store: Store, scale: int) -> list[Result]:
    bench = setup(store)
    desk, customer, agent = bench.desk, bench.customer, bench.agent
    references: list[str] = []

    def open_ticket(index: int) -> None:
        submission = Submission(summary=f"Ticket {index}", description="Claims missing")
        references.append(desk.open_ticket(customer, bench.request_type.id, submission).reference)

    results = [measure(name, "open ticket", scale, open_ticket)]
    results.append(
        measure(
            name,
            "public update",
            scale,
            lambda i: desk.share_update(customer, references[i], "more details"),
        )
    )
    results.append(
        measure(
            name,
            "status change (ask customer)",
            scale,
            lambda i: desk.ask_customer(agent, references[i], "which claims?"),
        )
    )
    for which in (TicketList.CREATED_BY_ME, TicketList.ORGANIZATION, TicketList.COLLABORATING):
        results.append(
            measure(
                name,
                f"first page: {which.value}",
                100,
                lambda _i, which=which: desk.list_tickets(customer, which, open=True),
            )
        )
    bench.clock.advance(timedelta(days=1))
    results.append(
        measure(name, f"run_due_timers ({scale} due)", 1, lambda _i: desk.run_due_timers())
    )
    return results


def make_store(name: str, folder: Path) -> Store:
    """A fresh, empty store of the named kind; SQL files go into ``folder``."""
    if name == "memory":
        return MemoryStore()
    raise SystemExit(f"unknown store {name!r}; known: memory")


def print_table(results: list[Result]) -> None:
    header = (
        f"{'store':<9} {'operation':<34} {'count':>7} {'seconds':>9} {'ops/s':>10} {'peak MiB':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.store:<9} {r.operation:<34} {r.count:>7} {r.seconds:>9.3f} "
            f"{r.ops_per_second:>10.0f} {r.peak_memory_bytes / 2**20:>9.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stores", default=os.environ.get("SUPPORTDESK_BENCH_STORES", "memory"))
    parser.add_argument("--scale", type=int, default=2000, help="tickets per phase")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args()
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.stores.split(","):
            store = make_store(name, Path(folder))
            try:
                results.extend(run_store(name, store, args.scale))
            finally:
                store.close()
    print_table(results)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    rows = [
        {
            "store": r.store,
            "operation": r.operation,
            "count": r.count,
            "seconds": r.seconds,
            "ops_per_second": r.ops_per_second,
            "peak_memory_bytes": r.peak_memory_bytes,
        }
        for r in results
    ]
    path.write_text(json.dumps(rows, indent=2))
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
