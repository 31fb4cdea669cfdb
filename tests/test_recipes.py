"""The host recipes: Flask, FastAPI and Django serve the same portal, errors as HTTP statuses."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from examples.recipes import seed

from supportdesk import SupportDesk

Call = Callable[[str, str, "dict[str, str] | None", "str | None"], tuple[int, Any]]
"""(method, path, JSON body, signed-in e-mail) -> (status, JSON answer or None)."""


def _flask() -> Call:
    from examples.recipes.flask_app import create_app

    client = create_app(SupportDesk.in_memory()).test_client()

    def call(method: str, path: str, body: dict[str, str] | None, user: str | None) -> Any:
        headers = {seed.LOGIN_HEADER: user} if user else {}
        answer = client.open(path, method=method, json=body, headers=headers)
        return answer.status_code, answer.get_json(silent=True)

    return call


def _fastapi() -> Call:
    from examples.recipes.fastapi_app import create_app
    from fastapi.testclient import TestClient

    client = TestClient(create_app(SupportDesk.in_memory()))

    def call(method: str, path: str, body: dict[str, str] | None, user: str | None) -> Any:
        headers = {seed.LOGIN_HEADER: user} if user else {}
        answer = client.request(method, path, json=body, headers=headers)
        return answer.status_code, answer.json() if answer.content else None

    return call


@pytest.fixture(scope="module")
def django_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Django, set up once for this process, on a SQLite file of its own."""
    import django
    from django.test import Client

    database = tmp_path_factory.mktemp("django") / "portal.db"
    os.environ["SUPPORTDESK_URL"] = f"sqlite:///{database}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "examples.recipes.django_portal.settings"
    django.setup()
    yield Client()
    from examples.recipes.django_portal.apps import desk

    desk().dispose()


def _django(client: Any) -> Call:
    def call(method: str, path: str, body: dict[str, str] | None, user: str | None) -> Any:
        headers = {seed.LOGIN_HEADER: user} if user else {}
        send = client.post if method == "POST" else client.get
        options: dict[str, Any] = {"headers": headers}
        if body is not None:
            options.update(data=body, content_type="application/json")
        answer = send(path, **options)
        is_json = answer.get("Content-Type", "").startswith("application/json")
        return answer.status_code, answer.json() if is_json else None

    return call


@pytest.fixture(params=["flask", "fastapi", "django"])
def call(request: pytest.FixtureRequest) -> Call:
    if request.param == "django":
        return _django(request.getfixturevalue("django_client"))
    maker: Callable[[], Call] = {"flask": _flask, "fastapi": _fastapi}[request.param]
    return maker()


ALICE, BOB, AGENT = "alice@acme.test", "bob@acme.test", "agent@desk.test"


def test_a_customer_raises_reads_and_updates_a_request(call: Call) -> None:
    status, before = call("GET", "/requests", None, ALICE)
    assert status == 200
    form = {
        "request_type": seed.GENERAL.id,
        "summary": "Missing claims",
        "description": "Since May",
    }
    status, opened = call("POST", "/requests", form, ALICE)
    assert status == 201
    reference = opened["reference"]
    assert reference.startswith("CSD-")
    assert call("POST", f"/requests/{reference}/updates", {"body": "Two more."}, ALICE)[0] == 204
    status, page = call("GET", f"/requests/{reference}", None, ALICE)
    assert status == 200
    assert page["activity"][-1] == {"by": "Alice Payer", "body": "Two more."}
    assert (page["status"], page["shared_with"]) == ("New", ["Alice Payer"])
    status, after = call("GET", "/requests", None, ALICE)
    assert after["total"] == before["total"] + 1
    assert after["tabs"]["created_by_me"] == before["tabs"]["created_by_me"] + 1
    (row,) = [row for row in after["requests"] if row["reference"] == reference]
    assert row == {
        "type": "General Request",
        "reference": reference,
        "summary": "Missing claims",
        "status": "New",
        "service_desk": "Customer Service Desk",
        "requester": "Alice Payer",
    }
    # Bob's "All" tab counts his colleague's request.
    assert call("GET", "/requests", None, BOB)[1]["tabs"]["all"] >= 1


def test_errors_become_their_http_status(call: Call) -> None:
    form = {"request_type": seed.GENERAL.id, "summary": "", "description": ""}
    status, refused = call("POST", "/requests", form, ALICE)
    assert status == 422
    assert set(refused["fields"]) >= {"summary"}
    assert call("GET", "/requests", None, None)[0] == 401
    assert call("GET", "/requests", None, "stranger@else.test")[0] == 404
    assert call("GET", "/requests/CSD-99999", None, ALICE)[0] == 404
    private = {"request_type": seed.INCIDENT.id, "summary": "Agent's own", "description": ""}
    status, opened = call("POST", "/requests", private, AGENT)
    assert status == 201
    # Another customer's request is not found, exactly like a missing one.
    assert call("GET", f"/requests/{opened['reference']}", None, ALICE)[0] == 404


def test_seeding_twice_leaves_one_of_each(tmp_path: Path) -> None:
    desk = SupportDesk.from_url(f"sqlite:///{tmp_path / 'portal.db'}", create=True)
    seed.seed(desk)
    seed.seed(desk)
    alice = desk.find_contact(ALICE)
    assert [d.key for d in desk.list_desks(alice)] == ["CSD"]
    names = [t.name for t in desk.list_request_types(alice, seed.SERVICE_DESK.id)]
    assert names == ["General Request", "Incident"]
    assert desk.find_contact(BOB).organization_id == seed.ACME.id
    desk.dispose()
