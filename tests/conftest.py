"""Shared fixtures: every store adapter, and a portal of customers and agents on each."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import settings

from supportdesk import (
    Contact,
    Desk,
    FakeClock,
    FieldKind,
    FieldSpec,
    MemoryStore,
    Organization,
    RequestType,
    Role,
    Store,
    Submission,
    SupportDesk,
    Ticket,
)
from supportdesk.storage.sql import SqlStore, make_engine, metadata, upgrade

SUITE_FIGURES = pytest.StashKey[dict[str, dict[str, str]]]()
"""Each suite's figures, by suite and then by store, printed at the end of the session."""


def record_figures(config: pytest.Config, suite: str, key: str, line: str) -> None:
    """Keep one line of a suite's figures (``key``: the store, say) for the session's summary."""
    config.stash.setdefault(SUITE_FIGURES, {}).setdefault(suite, {})[key] = line


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures of the suites that ran: checks, cases, faults, violations."""
    for suite, lines in terminalreporter.config.stash.get(SUITE_FIGURES, {}).items():
        terminalreporter.section(suite)
        for line in lines.values():
            terminalreporter.write_line(line)


# CI explores the same examples on every run, so a red run is always
# reproducible; local runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


@attrs.frozen(kw_only=True)
class Portal:
    """A desk on one store, the people who use it and a fake clock."""

    desk: SupportDesk
    clock: FakeClock
    help_desk: Desk
    other_desk: Desk
    general: RequestType
    incident: RequestType
    acme: Organization
    globex: Organization
    alice: Contact
    """Customer of Acme, the usual requester."""
    bob: Contact
    """Customer of Acme, alice's colleague."""
    carol: Contact
    """Customer of Globex: outside alice's organisation."""
    loner: Contact
    """Customer without an organisation."""
    agent: Contact
    """Agent of the help desk."""
    outsider_agent: Contact
    """Agent of the other desk only."""
    admin: Contact

    def open(
        self, requester: Contact | None = None, summary: str = "Portal missing data"
    ) -> Ticket:
        """Open a general request as ``requester`` (alice by default)."""
        return self.desk.open_ticket(
            requester or self.alice,
            self.general.id,
            Submission(summary=summary, description="Claims from May are missing."),
        )


POSTGRES_URL_VARIABLE = "SUPPORTDESK_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def assert_no_leaks(store: SqlStore) -> None:
    """Every connection a test took is back in the pool."""
    pool = store.engine.pool
    assert isinstance(pool, sa.QueuePool)
    assert pool.checkedout() == 0, pool.status()


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the head revision; tests copy it rather than migrate each time."""
    path = tmp_path_factory.mktemp("template") / "supportdesk.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_sqlite_file: Path) -> str:
    """The URL of a fresh, migrated SQLite file of this test's own."""
    path = tmp_path / "supportdesk.db"
    shutil.copyfile(migrated_sqlite_file, path)
    return f"sqlite:///{path}"


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[SqlStore]:
    """An empty SQL store on a SQLite file (WAL)."""
    store = SqlStore.from_url(sqlite_url)
    yield store
    assert_no_leaks(store)
    store.close()


def _postgres_base_url() -> str:
    return os.environ.get(POSTGRES_URL_VARIABLE, DEFAULT_POSTGRES_URL)


def _unreachable(reason: str) -> None:
    message = f"PostgreSQL unreachable at {POSTGRES_URL_VARIABLE} ({reason})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def in_schema(url: str, schema: str) -> str:
    """``url`` with every connection's search path set to ``schema``."""
    return (
        sa.make_url(url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[sa.Engine]:
    """An engine on the Postgres database the tests may create schemas in."""
    engine = make_engine(_postgres_base_url())
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        engine.dispose()
        _unreachable(str(error.orig).splitlines()[0])
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_schema_url(postgres_admin: sa.Engine) -> Iterator[str]:
    """A fresh schema for this test session, migrated to head, dropped at the end."""
    schema = f"sd_{uuid.uuid4().hex[:12]}"
    with postgres_admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = in_schema(_postgres_base_url(), schema)
    try:
        upgrade(url)
        yield url
    finally:
        with postgres_admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture
def empty_postgres_schema(postgres_admin: sa.Engine) -> Iterator[str]:
    """The URL of a schema with nothing in it, for migration tests; dropped afterwards."""
    schema = f"sd_{uuid.uuid4().hex[:12]}"
    with postgres_admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield in_schema(_postgres_base_url(), schema)
    finally:
        with postgres_admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_store(request: pytest.FixtureRequest) -> SqlStore:
    """An empty SQL store on each dialect in turn."""
    store: SqlStore = request.getfixturevalue(f"{request.param}_store")
    return store


@pytest.fixture
def postgres_store(postgres_schema_url: str) -> Iterator[SqlStore]:
    """An empty SQL store in the session's Postgres schema."""
    store = SqlStore.from_url(postgres_schema_url)
    yield store
    assert_no_leaks(store)
    # DELETE rather than TRUNCATE: on tables this small it is many times faster.
    with store.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
    store.close()


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """An empty store of each adapter in turn: the desk tests run on all of them."""
    if request.param == "memory":
        memory = MemoryStore()
        yield memory
        memory.close()
    else:
        yield request.getfixturevalue(f"{request.param}_store")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def portal(store: Store, clock: FakeClock) -> Portal:
    return build_portal(store, clock)


def build_portal(store: Store, clock: FakeClock) -> Portal:
    """Two desks, two organisations, four customers, two agents and an admin on ``store``."""
    desk = SupportDesk(store, clock=clock)
    acme = desk.add_organization(Organization(name="Acme Health"))
    globex = desk.add_organization(Organization(name="Globex"))
    help_desk = desk.add_desk(Desk(key="HHA", name="Customer Service Desk"))
    other_desk = desk.add_desk(Desk(key="EDI", name="EDI Support Desk"))
    general = desk.add_request_type(
        RequestType(desk_id=help_desk.id, name="General Request", description_required=True)
    )
    incident = desk.add_request_type(
        RequestType(
            desk_id=help_desk.id,
            name="Incident",
            fields=(
                FieldSpec(
                    key="severity", label="Severity", kind=FieldKind.CHOICE, options=("low", "high")
                ),
            ),
        )
    )

    def contact(email: str, name: str, **changes: Any) -> Contact:
        return desk.add_contact(attrs.evolve(Contact(email=email, full_name=name), **changes))

    return Portal(
        desk=desk,
        clock=clock,
        help_desk=help_desk,
        other_desk=other_desk,
        general=general,
        incident=incident,
        acme=acme,
        globex=globex,
        alice=contact("alice@acme.test", "Alice Payer", organization_id=acme.id),
        bob=contact("bob@acme.test", "Bob Payer", organization_id=acme.id),
        carol=contact("carol@globex.test", "Carol Provider", organization_id=globex.id),
        loner=contact("loner@example.test", "Lone Customer"),
        agent=contact(
            "agent@desk.test", "Agent Smith", role=Role.AGENT, desk_ids=frozenset({help_desk.id})
        ),
        outsider_agent=contact(
            "edi@desk.test", "EDI Agent", role=Role.AGENT, desk_ids=frozenset({other_desk.id})
        ),
        admin=contact("admin@desk.test", "Admin", role=Role.ADMIN),
    )
