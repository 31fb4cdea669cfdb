"""What the portal answers to input it cannot take, through Flask's test client: a message or
the library's HTTP status for the refusal, never a crash."""

from __future__ import annotations

import io

from examples.portal.app import MAX_REQUEST_BYTES, create_app
from examples.portal.seed import PASSWORD
from flask.testing import FlaskClient

from supportdesk import Contact, ContactState, Submission

from .conftest import client_as, csrf_token, request_type_named
from .test_portal_security import portal_desk


def posted(
    client: FlaskClient, path: str, data: dict[str, str], form: str | None = None
) -> tuple[int, str]:
    """POST ``data`` to ``path`` as the form on page ``form`` (``path`` by default) would."""
    page = client.get(form or path).get_data(as_text=True)
    answer = client.post(path, data={**data, "csrf": csrf_token(page)})
    return answer.status_code, answer.get_data(as_text=True)


def test_an_address_the_library_refuses_is_a_message_on_the_form() -> None:
    client = create_app(portal_desk()).test_client()
    status, page = posted(client, "/login", {"email": "alice@localhost", "password": ""})
    assert status == 200 and "do not match an account" in page
    for path in ("/signup", "/password"):
        status, page = posted(client, path, {"email": "not an address"})
        assert status == 200 and 'role="alert"' in page, path


def test_refusals_carry_the_librarys_status() -> None:
    desk = portal_desk()
    alice = client_as(desk, "alice@acme.test")
    assert alice.get("/signups").status_code == 403  # admins only
    assert alice.get("/requests?cursor=forged").status_code == 422
    assert alice.get("/desks/no-such-desk/no-such-type").status_code == 404
    assert alice.get("/knowledge/no-such-article").status_code == 404
    assert alice.get("/attachments/no-such-file").status_code == 404
    page = alice.get("/login").get_data(as_text=True)
    non_ascii = alice.post("/logout", data={"csrf": "é" + csrf_token(page)})
    assert non_ascii.status_code == 400


def test_a_disabled_account_is_logged_out() -> None:
    desk = portal_desk()
    client = client_as(desk, "bob@acme.test")
    assert client.get("/requests").status_code == 200
    admin = desk.find_contact("admin@portal.test")
    bob = desk.find_contact("bob@acme.test")
    desk.set_contact_state(admin, bob.id, ContactState.DISABLED)
    answer = client.get("/requests")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login")


def test_a_case_shows_its_details_and_its_files_download_for_those_who_see_it() -> None:
    desk = portal_desk()
    client = client_as(desk, "alice@acme.test")
    alice = desk.find_contact("alice@acme.test")
    case = request_type_named(desk, alice, "Support Case")
    answers = {
        "product": "Claims Portal",
        "category": "Access",
        "customer_id": "C123456",
        "username": "apayer",
        "state": "NY",
    }
    ticket = desk.open_ticket(
        alice,
        case.id,
        Submission(summary="Locked out", description="Since Monday.", fields=answers),
        attachments=[("screen.png", io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(16)))],
    )
    page = client.get(f"/requests/{ticket.reference}").get_data(as_text=True)
    assert "<dt>Customer ID</dt><dd>C123456</dd>" in page
    (file,) = desk.list_attachments(alice, ticket.reference)
    download = client.get(f"/attachments/{file.id}")
    assert download.status_code == 200
    assert download.data == b"\x89PNG\r\n\x1a\n" + bytes(16)
    assert download.headers["Content-Disposition"] == "attachment; filename=screen.png"

    stranger = desk.add_contact(Contact(email="zoe@elsewhere.test", full_name="Zoe"))
    desk.set_password(stranger, PASSWORD)
    assert client_as(desk, "zoe@elsewhere.test").get(f"/attachments/{file.id}").status_code == 404


def test_the_profile_changes_the_password_and_lists_the_e_mails_one_can_get() -> None:
    desk = portal_desk()
    client = client_as(desk, "alice@acme.test")
    profile = client.get("/profile").get_data(as_text=True)
    assert 'name="ticket_received"' in profile and 'name="internal_note"' not in profile
    new = {"current_password": "not it", "password": "a new long password"}
    status, page = posted(client, "/profile/password", new, "/profile")
    assert status == 200 and "not your current password" in page
    short = {"current_password": PASSWORD, "password": "short"}
    status, page = posted(client, "/profile/password", short, "/profile")
    assert status == 200 and "at least 10 characters" in page
    new = {"current_password": PASSWORD, "password": "a new long password"}
    assert posted(client, "/profile/password", new, "/profile")[0] == 302
    assert desk.verify_password("alice@acme.test", "a new long password") is not None


def test_a_refused_action_is_told_on_the_page_it_came_from() -> None:
    desk = portal_desk()
    client = client_as(desk, "alice@acme.test")
    alice = desk.find_contact("alice@acme.test")
    general = request_type_named(desk, alice, "General Request")
    ticket = desk.open_ticket(alice, general.id, Submission(summary="Help", description="x"))
    path = f"/requests/{ticket.reference}"
    status, page = posted(client, f"{path}/assign", {}, path)
    assert status == 302  # a reload of the page does not send the action again
    page = client.get(path).get_data(as_text=True)
    assert 'role="alert"' in page and "assign to an active agent" in page
    assert 'role="alert"' not in client.get(path).get_data(as_text=True)  # told once


def test_a_request_over_the_cap_is_refused_before_it_is_read() -> None:
    client = create_app(portal_desk()).test_client()
    answer = client.post(
        "/login", data=b"x" * (MAX_REQUEST_BYTES + 1), content_type="application/octet-stream"
    )
    assert answer.status_code == 413


def test_a_sign_up_decision_must_be_one_of_the_two() -> None:
    desk = portal_desk()
    admin = client_as(desk, "admin@portal.test")
    status, _ = posted(admin, "/signups", {"contact_id": "x", "decision": "maybe"})
    assert status == 400


def test_an_erased_accounts_session_does_not_pass_to_whoever_takes_its_address() -> None:
    desk = portal_desk()
    client = client_as(desk, "bob@acme.test")
    admin, bob = desk.find_contact("admin@portal.test"), desk.find_contact("bob@acme.test")
    desk.erase_contact(admin, bob.id)
    newcomer = desk.add_contact(Contact(email="bob@acme.test", full_name="Another Bob"))
    desk.set_password(newcomer, PASSWORD)
    answer = client.get("/requests")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login")


def test_a_dead_link_says_so_before_its_form() -> None:
    client = create_app(portal_desk()).test_client()
    for path in ("/signup", "/password"):
        page = client.get(f"{path}?token=no-such-token").get_data(as_text=True)
        assert "link is unknown; request a new one" in page, path
        assert 'name="token"' not in page and "Send me a link" in page, path
