"""The portal as a Flask application: log in, browse the desks, raise a request, follow it.

Run it with ``flask --app examples.portal.app run`` (a SQLite file ``portal.db``
in the working folder, seeded on start; every seeded account's password is
``portal-demo-password``).  Each page is one or two calls to the desk: the
rows, views and forms it returns carry what the page shows.
"""

from __future__ import annotations

import os

from flask import Flask, abort, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from supportdesk import (
    Contact,
    NotFound,
    Submission,
    SupportDesk,
    TicketList,
    ValidationError,
    describe_form,
)

from .seed import options, seed

LISTS = {
    "created_by_me": TicketList.CREATED_BY_ME,
    "all": TicketList.ORGANIZATION,
    "shared_with_me": TicketList.COLLABORATING,
}
"""The requests tabs, by the name in the URL."""


def create_app(desk: SupportDesk | None = None) -> Flask:
    """The app, on ``desk`` (tests) or on ``portal.db`` (seeded on start)."""
    app = Flask(__name__)
    app.secret_key = os.environ.get("PORTAL_SECRET_KEY", os.urandom(32))
    if desk is None:
        desk = SupportDesk.from_url("sqlite:///portal.db", create=True, **options())
    seed(desk)
    app.extensions["supportdesk"] = desk
    app.before_request(_who_is_it)
    _routes(app)
    return app


def _desk() -> SupportDesk:
    from flask import current_app

    desk: SupportDesk = current_app.extensions["supportdesk"]
    return desk


def _who_is_it() -> ResponseReturnValue | None:
    g.contact = None
    email = session.get("email")
    if email is not None:
        try:
            g.contact = _desk().find_contact(email)
        except NotFound:
            session.clear()
    if g.contact is None and request.endpoint not in ("login", "static"):
        return redirect(url_for("login"))
    return None


def _me() -> Contact:
    contact: Contact = g.contact
    return contact


def _routes(app: Flask) -> None:
    @app.route("/login", methods=["GET", "POST"])
    def login() -> ResponseReturnValue:
        error = None
        if request.method == "POST":
            contact = _desk().verify_password(
                request.form.get("email", ""), request.form.get("password", "")
            )
            if contact is not None:
                session["email"] = contact.email
                return redirect(url_for("home"))
            error = "That e-mail and password do not match an account."
        return render_template("login.html", error=error)

    @app.post("/logout")
    def logout() -> ResponseReturnValue:
        session.clear()
        return redirect(url_for("login"))

    @app.get("/")
    def home() -> ResponseReturnValue:
        desk, me = _desk(), _me()
        desks = [(d, desk.list_request_types(me, d.id)) for d in desk.list_desks(me)]
        return render_template("home.html", me=me, desks=desks)

    @app.route("/desks/<desk_id>/<request_type_id>", methods=["GET", "POST"])
    def new_request(desk_id: str, request_type_id: str) -> ResponseReturnValue:
        desk, me = _desk(), _me()
        types = {t.id: t for t in desk.list_request_types(me, desk_id)}
        if request_type_id not in types:
            abort(404)
        request_type = types[request_type_id]
        errors: dict[str, str] = {}
        if request.method == "POST":
            fields = {f.key: request.form.get(f.key, "") for f in request_type.fields}
            submission = Submission(
                summary=request.form.get("summary", ""),
                description=request.form.get("description", ""),
                fields={k: v for k, v in fields.items() if v != ""},
            )
            try:
                ticket = desk.open_ticket(me, request_type.id, submission)
            except ValidationError as refused:
                errors = dict(refused.errors)
            else:
                return redirect(url_for("view_request", reference=ticket.reference, created=1))
        return render_template(
            "new_request.html",
            me=me,
            request_type=request_type,
            fields=describe_form(request_type),
            values=request.form,
            errors=errors,
        )

    @app.get("/requests")
    def requests() -> ResponseReturnValue:
        which = request.args.get("list", "created_by_me")
        if which not in LISTS:
            abort(404)
        state = request.args.get("state", "open")
        page = _desk().list_tickets(
            _me(), LISTS[which], open=state == "open", cursor=request.args.get("cursor")
        )
        return render_template(
            "requests.html", me=_me(), page=page, which=which, state=state, lists=LISTS
        )

    @app.route("/requests/<reference>", methods=["GET", "POST"])
    def view_request(reference: str) -> ResponseReturnValue:
        desk, me = _desk(), _me()
        error = None
        if request.method == "POST":
            try:
                landed = desk.share_update(me, reference, request.form.get("body", ""))
            except ValidationError as refused:
                error = "; ".join(refused.errors.values())
            else:
                return redirect(url_for("view_request", reference=landed.reference))
        try:
            view = desk.view_ticket(me, reference)
        except NotFound:
            abort(404)
        created = request.args.get("created") == "1"
        return render_template("request.html", me=me, view=view, created=created, error=error)
