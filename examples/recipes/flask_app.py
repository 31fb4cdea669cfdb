"""supportdesk behind Flask: an app factory, the desk per app, errors as JSON with their status.

Run it with ``flask --app examples.recipes.flask_app run`` (a SQLite file
``portal.db`` in the working folder), then for example::

    curl -H 'X-User-Email: alice@acme.test' localhost:5000/requests
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from supportdesk import Contact, Submission, SupportDesk, SupportDeskError, ValidationError

from .pages import request_page, requests_page
from .seed import LOGIN_HEADER, seed


def create_app(desk: SupportDesk | None = None) -> Flask:
    """The app, on ``desk`` (tests) or on ``portal.db`` (seeded on start)."""
    app = Flask(__name__)
    if desk is None:
        desk = SupportDesk.from_url("sqlite:///portal.db", create=True)
    seed(desk)
    # One desk per process, shared by the request threads: it is thread-safe.
    app.extensions["supportdesk"] = desk

    @app.errorhandler(SupportDeskError)
    def on_error(error: SupportDeskError) -> ResponseReturnValue:
        body: dict[str, Any] = {"error": str(error)}
        if isinstance(error, ValidationError):
            body["fields"] = error.errors
        return jsonify(body), error.http_status

    @app.get("/requests")
    def my_requests() -> ResponseReturnValue:
        return requests_page(_desk().list_tickets(_contact()))

    @app.post("/requests")
    def open_request() -> ResponseReturnValue:
        form = request.get_json(force=True)
        submission = Submission(
            summary=form.get("summary", ""), description=form.get("description", "")
        )
        ticket = _desk().open_ticket(_contact(), form.get("request_type", ""), submission)
        return {"reference": ticket.reference}, 201

    @app.get("/requests/<reference>")
    def view_request(reference: str) -> ResponseReturnValue:
        return request_page(_desk().view_ticket(_contact(), reference))

    @app.post("/requests/<reference>/updates")
    def share_update(reference: str) -> ResponseReturnValue:
        _desk().share_update(_contact(), reference, request.get_json(force=True).get("body", ""))
        return "", 204

    return app


def _desk() -> SupportDesk:
    desk: SupportDesk = current_app.extensions["supportdesk"]
    return desk


def _contact() -> Contact:
    """The signed-in person as a contact; 401 without a login, 404 for a stranger."""
    email = request.headers.get(LOGIN_HEADER)
    if not email:
        abort(401)
    return _desk().find_contact(email)
