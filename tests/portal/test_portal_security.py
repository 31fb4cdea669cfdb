"""The portal's own defences, through Flask's test client: CSRF tokens, cookie flags, escaping,
and a ticket of another organisation that does not exist for the stranger."""

from __future__ import annotations

from examples.portal.app import create_app
from examples.portal.seed import PASSWORD, options

from supportdesk import Contact, FakeClock, Submission, SupportDesk
from supportdesk.storage.memory import MemoryStore

from .conftest import client_as, csrf_token, request_type_named


def portal_desk() -> SupportDesk:
    return SupportDesk(MemoryStore(), clock=FakeClock(), **options())


def test_a_form_without_the_sessions_token_is_refused() -> None:
    client = create_app(portal_desk()).test_client()
    refused = client.post("/login", data={"email": "alice@acme.test", "password": PASSWORD})
    assert refused.status_code == 400
    page = client.get("/login").get_data(as_text=True)
    forged = client.post(
        "/login",
        data={"email": "alice@acme.test", "password": PASSWORD, "csrf": "x" + csrf_token(page)},
    )
    assert forged.status_code == 400


def test_the_session_cookie_is_http_only_and_same_site() -> None:
    client = create_app(portal_desk()).test_client()
    page = client.get("/login").get_data(as_text=True)
    answer = client.post(
        "/login", data={"email": "alice@acme.test", "password": PASSWORD, "csrf": csrf_token(page)}
    )
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_what_people_typed_is_escaped_and_strangers_get_404() -> None:
    desk = portal_desk()
    client = client_as(desk, "alice@acme.test")
    alice = desk.find_contact("alice@acme.test")
    general = request_type_named(desk, alice, "General Request")
    ticket = desk.open_ticket(
        alice,
        general.id,
        Submission(summary="<script>alert(1)</script>", description="<b>bold</b>"),
    )
    page = client.get(f"/requests/{ticket.reference}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    stranger = desk.add_contact(Contact(email="zoe@elsewhere.test", full_name="Zoe"))
    desk.set_password(stranger, PASSWORD)
    other = client_as(desk, "zoe@elsewhere.test")
    assert other.get(f"/requests/{ticket.reference}").status_code == 404
    assert other.get("/requests/HHA-99999").status_code == 404
