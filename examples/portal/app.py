"""The portal as a Flask application: log in, browse the desks, raise a request, follow it.

Run it with its worker with ``nox -s portal`` (or the app alone with ``flask
--app examples.portal.app run``): a SQLite file ``portal.db`` in the working
folder, seeded on start; every seeded account's password is
``portal-demo-password``.  Each page is a few calls to the desk, none per
row: the rows, views and forms it returns carry what the page shows.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Callable, Sequence
from typing import Any

from flask import (
    Flask,
    Request,
    abort,
    current_app,
    flash,
    g,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from supportdesk import (
    ArticleKind,
    AttachmentRejected,
    Contact,
    ContactState,
    FieldKind,
    FieldSpec,
    InvalidToken,
    NotFound,
    Priority,
    RequestType,
    Submission,
    SupportDesk,
    SupportDeskError,
    TicketList,
    TicketSort,
    TokenPurpose,
    ValidationError,
    Workflow,
    describe_form,
)
from supportdesk.access import is_staff
from supportdesk.forms import field_text
from supportdesk.notifications import email_options

from .seed import options, seed

LISTS = {
    "created_by_me": TicketList.CREATED_BY_ME,
    "all": TicketList.ORGANIZATION,
    "shared_with_me": TicketList.COLLABORATING,
}
"""The customer's requests tabs, by the name in the URL."""
QUEUES = {
    "assigned_to_me": TicketList.ASSIGNED_TO_ME,
    "unassigned": TicketList.UNASSIGNED,
    "desks": TicketList.VISIBLE,
}
"""The agent's queues, by the name in the URL."""
SORTS = {"newest": TicketSort.NEWEST, "sla": TicketSort.SLA_DUE}
MAX_REQUEST_BYTES = 101 * 1024 * 1024
"""The largest request taken: a ticket's files at the desks' default limit (100 MiB), and a form."""
PUBLIC = frozenset({"login", "signup", "forgot_password", "static"})
"""The pages one sees without logging in."""


def create_app(desk: SupportDesk | None = None) -> Flask:
    """The app, on ``desk`` (tests) or on ``portal.db`` (seeded on start)."""
    app = Flask(__name__)
    app.secret_key = os.environ.get("PORTAL_SECRET_KEY", os.urandom(32))
    # The session cookie is out of scripts' reach and stays on this site's own requests.
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
    )
    desk = desk or portal_desk()
    seed(desk)
    app.extensions["supportdesk"] = desk
    app.before_request(_forged)
    app.before_request(_who_is_it)
    app.jinja_env.globals["csrf_token"] = _csrf_token
    app.register_error_handler(SupportDeskError, _refused)
    _routes(app)
    return app


def portal_desk() -> SupportDesk:
    """The portal's desk on ``PORTAL_DATABASE`` (``sqlite:///portal.db`` by default).

    The web app and its worker (``supportdesk worker --desk
    examples.portal.app:portal_desk``) both build it here, so they share
    one configuration: workflows, calendars, SLA targets, sign-up policy.
    """
    url = os.environ.get("PORTAL_DATABASE", "sqlite:///portal.db")
    return SupportDesk.from_url(url, create=True, **options())


def _desk() -> SupportDesk:
    desk: SupportDesk = current_app.extensions["supportdesk"]
    return desk


def _csrf_token() -> str:
    """This session's token, which every form sends back (``csrf`` field)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    token: str = session["csrf"]
    return token


def _forged() -> None:
    """Refuse a POST whose form does not carry the session's token: another site sent it."""
    if request.method == "POST":
        sent = request.form.get("csrf", "").encode()
        if not sent or not hmac.compare_digest(sent, session.get("csrf", "").encode()):
            abort(400, "The form expired; reload the page and send it again.")


def _who_is_it() -> ResponseReturnValue | None:
    g.contact = None
    # By id, not e-mail: an erased account frees its address for someone else.
    contact_id = session.get("contact_id")
    if contact_id is not None:
        try:
            contact = _desk().get_contact(contact_id)
        except NotFound:
            contact = None
        if contact is None or contact.state is not ContactState.ACTIVE:
            session.clear()  # disabled or erased since they logged in
        else:
            g.contact = contact
    if g.contact is None and request.endpoint not in PUBLIC:
        return redirect(url_for("login"))
    return None


def _refused(refused: SupportDeskError) -> ResponseReturnValue:
    """A refusal no page handles itself, under the library's own HTTP status for it."""
    page = render_template("refused.html", me=g.get("contact"), message=_said(refused))
    return page, refused.http_status


def _me() -> Contact:
    contact: Contact = g.contact
    return contact


def _routes(app: Flask) -> None:
    @app.route("/login", methods=["GET", "POST"])
    def login() -> ResponseReturnValue:
        error = None
        if request.method == "POST":
            try:
                contact = _desk().verify_password(
                    request.form.get("email", ""), request.form.get("password", "")
                )
            except ValidationError:  # not an address, or no password at all
                contact = None
            if contact is not None:
                session.clear()  # nothing of the visit before carries over
                session["contact_id"] = contact.id
                return redirect(url_for("home"))
            error = "That e-mail and password do not match an account."
        return render_template("login.html", error=error)

    @app.route("/signup", methods=["GET", "POST"])
    def signup() -> ResponseReturnValue:
        desk = _desk()
        token = request.values.get("token")
        if token is None:
            if request.method == "POST":
                email = request.form.get("email", "")
                try:
                    desk.request_signup(email)
                except ValidationError as refused:
                    return render_template("signup.html", error=_said(refused))
                return render_template("signup.html", sent=email)
            return render_template("signup.html")
        if dead := _dead_link(desk, token, TokenPurpose.SIGNUP):
            return render_template("signup.html", error=dead)  # and a form to ask again
        errors: dict[str, str] = {}
        fields = describe_form(desk.signup_policy.fields)
        if request.method == "POST":
            try:
                contact = desk.complete_signup(
                    token,
                    request.form.get("full_name", ""),
                    request.form.get("password", ""),  # this portal's accounts all have one
                    details=_answers(fields),
                )
            except ValidationError as refused:
                errors = dict(refused.errors)
            except InvalidToken as refused:  # a used or expired link
                return render_template(
                    "signup.html", token=token, error=str(refused), **_form(fields)
                )
            else:
                return render_template("signed_up.html", contact=contact)
        return render_template("signup.html", token=token, errors=errors, **_form(fields))

    @app.route("/password", methods=["GET", "POST"])
    def forgot_password() -> ResponseReturnValue:
        desk = _desk()
        token = request.values.get("token")
        if request.method == "POST" and token is None:
            try:
                desk.request_password_reset(request.form.get("email", ""))
            except ValidationError as refused:
                return render_template("password.html", error=_said(refused))
            return render_template("password.html", sent=request.form.get("email", ""))
        if token is not None and (dead := _dead_link(desk, token, TokenPurpose.PASSWORD_RESET)):
            return render_template("password.html", error=dead)  # and a form to ask again
        if request.method == "POST":
            try:
                desk.reset_password(token or "", request.form.get("password", ""))
            except SupportDeskError as refused:
                return render_template("password.html", token=token, error=_said(refused))
            return redirect(url_for("login"))
        return render_template("password.html", token=token)

    @app.post("/logout")
    def logout() -> ResponseReturnValue:
        session.clear()
        return redirect(url_for("login"))

    @app.get("/")
    def home() -> ResponseReturnValue:
        desk, me = _desk(), _me()
        types: dict[str, list[RequestType]] = {}
        for request_type in desk.list_request_types(me):
            types.setdefault(request_type.desk_id, []).append(request_type)
        desks = [(d, types.get(d.id, [])) for d in desk.list_desks(me)]
        news = desk.list_announcements(me)
        return render_template("home.html", me=me, desks=desks, announcements=news)

    @app.get("/knowledge")
    def knowledge() -> ResponseReturnValue:
        desk, me = _desk(), _me()
        articles = desk.list_articles(me, kind=ArticleKind.ARTICLE)
        faqs = desk.list_articles(me, kind=ArticleKind.FAQ)
        return render_template("knowledge.html", me=me, articles=articles, faqs=faqs)

    @app.get("/knowledge/<article_id>")
    def article(article_id: str) -> ResponseReturnValue:
        found = _desk().get_article(_me(), article_id)
        return render_template("article.html", me=_me(), article=found)

    @app.get("/search")
    def search() -> ResponseReturnValue:
        text = request.args.get("q", "")
        try:
            found = _desk().search(_me(), text, cursor=request.args.get("cursor"))
        except ValidationError as refused:
            return render_template("search.html", me=_me(), text=text, error=_said(refused))
        return render_template("search.html", me=_me(), text=text, found=found)

    @app.route("/desks/<desk_id>/<request_type_id>", methods=["GET", "POST"])
    def new_request(desk_id: str, request_type_id: str) -> ResponseReturnValue:
        desk, me = _desk(), _me()
        types = {t.id: t for t in desk.list_request_types(me, desk_id)}
        if request_type_id not in types:
            abort(404)
        request_type = types[request_type_id]
        errors: dict[str, str] = {}
        if request.method == "POST":
            submission = Submission(
                summary=request.form.get("summary", ""),
                description=request.form.get("description", ""),
                fields=_answers(request_type.fields),
            )
            files = [
                (upload.filename or "file", upload.stream)
                for upload in request.files.getlist("files")
                if upload.filename
            ]
            try:
                ticket = desk.open_ticket(me, request_type.id, submission, attachments=files)
            except ValidationError as refused:
                errors = dict(refused.errors)
            except AttachmentRejected as refused:
                errors = {"attachments": str(refused)}
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
        me = _me()
        tabs = QUEUES if is_staff(me) else LISTS
        which = request.args.get("list", next(iter(tabs)))
        sort = request.args.get("sort", "newest")
        if which not in tabs or sort not in SORTS:
            abort(404)
        state = request.args.get("state", "open")
        desk = _desk()
        chosen = request.args.get("type") or None
        page = desk.list_tickets(
            me,
            tabs[which],
            open=state == "open",
            request_type_id=chosen,
            sort=SORTS[sort],
            cursor=request.args.get("cursor"),
        )
        shown = {"list": which, "state": state, "sort": sort, "type": chosen}
        return render_template(
            "requests.html",
            me=me,
            page=page,
            lists=tabs,
            shown=shown,
            types=desk.list_request_types(me),
        )

    @app.route("/requests/<reference>", methods=["GET", "POST"])
    def view_request(reference: str) -> ResponseReturnValue:
        desk, me = _desk(), _me()
        error = None
        if request.method == "POST":
            try:
                landed = desk.share_update(me, reference, request.form.get("body", ""))
            except SupportDeskError as refused:
                error = _said(refused)
            else:
                return redirect(url_for("view_request", reference=landed.reference))
        return _request_page(reference, error)

    @app.post("/requests/<reference>/<action>")
    def act(reference: str, action: str) -> ResponseReturnValue:
        step = ACTIONS.get(action)
        if step is None:
            abort(404)
        try:
            step(_desk(), _me(), reference, request)
        except SupportDeskError as refused:
            flash(_said(refused))  # shown once on the page, which a reload does not post again
        return redirect(url_for("view_request", reference=reference))

    @app.get("/attachments/<attachment_id>")
    def download(attachment_id: str) -> ResponseReturnValue:
        attachment, stream = _desk().open_attachment(_me(), attachment_id)
        return send_file(
            stream,
            mimetype=attachment.content_type,
            as_attachment=True,
            download_name=attachment.filename,
        )

    @app.post("/profile/password")
    def change_password() -> ResponseReturnValue:
        desk, me = _desk(), _me()
        current = request.form.get("current_password", "")
        try:
            # Who changes it must know it: a session cookie alone does not take the account.
            if desk.verify_password(me.email, current) is None:
                return _profile_page(desk, me, "That is not your current password.")
            desk.set_password(me, request.form.get("password", ""))
        except ValidationError as refused:
            return _profile_page(desk, me, _said(refused))
        return redirect(url_for("profile", changed=1))

    @app.route("/profile", methods=["GET", "POST"])
    def profile() -> ResponseReturnValue:
        desk, me = _desk(), _me()
        error = None
        if request.method == "POST":
            try:
                desk.update_profile(me, request.form.get("full_name", ""))
                wanted = {kind: kind.value in request.form for kind in email_options(me)}
                desk.set_notification_settings(me, wanted)
            except SupportDeskError as refused:
                error = _said(refused)
            else:
                return redirect(url_for("profile"))
        return _profile_page(desk, me, error)

    @app.route("/signups", methods=["GET", "POST"])
    def signups() -> ResponseReturnValue:
        desk, me = _desk(), _me()
        if request.method == "POST":
            contact_id, decision = request.form.get("contact_id", ""), request.form.get("decision")
            if decision == "approve":
                desk.approve_signup(me, contact_id)
            elif decision == "reject":
                desk.reject_signup(me, contact_id, request.form.get("reason", ""))
            else:
                abort(400)
            return redirect(url_for("signups"))
        labels = {spec.key: spec.label for spec in desk.signup_policy.fields}
        return render_template(
            "signups.html",
            me=me,
            pending=desk.list_pending_signups(me),
            labels=labels,
            text=field_text,
        )

    @app.route("/notifications", methods=["GET", "POST"])
    def notifications() -> ResponseReturnValue:
        desk, me = _desk(), _me()
        if request.method == "POST":
            desk.mark_read(me)
            return redirect(url_for("notifications"))
        return render_template("notifications.html", me=me, feed=desk.notifications(me))

    @app.context_processor
    def bell() -> dict[str, Any]:
        """The unread count on every page's bell."""
        me = g.get("contact")
        try:
            return {"unread": 0 if me is None else _desk().unread_count(me)}
        except SupportDeskError:  # the page itself may be telling of this very refusal
            return {"unread": 0}


def _request_page(reference: str, error: str | None) -> ResponseReturnValue:
    desk, me = _desk(), _me()
    error = error or next(iter(get_flashed_messages()), None)
    view = desk.view_ticket(me, reference)
    answers = view.ticket.fields
    details = [
        (spec.label, field_text(answers[spec.key]))
        for spec in view.request_type.fields
        if spec.key in answers
    ]
    staff = is_staff(me)
    request_types = desk.list_request_types(me, view.desk.id) if staff else ()
    assignees = desk.list_assignees(me, view.desk.id) if staff else ()
    return render_template(
        "request.html",
        me=me,
        view=view,
        details=details,
        staff=staff,
        request_types=request_types,
        assignees=assignees,
        labels=_labels(desk.workflow_of(view.desk)),
        priorities=list(Priority),
        created=request.args.get("created") == "1",
        error=error,
    )


def _profile_page(desk: SupportDesk, me: Contact, error: str | None) -> ResponseReturnValue:
    settings = desk.get_notification_settings(me)
    kinds = sorted(email_options(me), key=lambda kind: kind.value)
    changed = request.args.get("changed") == "1"
    return render_template(
        "profile.html", me=me, settings=settings, kinds=kinds, error=error, changed=changed
    )


def _labels(workflow: Workflow) -> dict[str, str]:
    """Each status's label, for the log's moves."""
    return {name: workflow.status(name).label for name in workflow.statuses}


def _answers(fields: Sequence[FieldSpec]) -> dict[str, object]:
    """A form's answers as the page sent them: a multi-choice field's every ticked option, a
    checkbox's last value (``on`` over its hidden ``off``), and nothing for an empty field."""
    answers: dict[str, object] = {}
    for field in fields:
        sent = [value for value in request.form.getlist(field.key) if value != ""]
        if sent:
            multiple = field.kind is FieldKind.MULTI_CHOICE
            answers[field.key] = tuple(sent) if multiple else sent[-1]
    return answers


def _form(fields: Sequence[FieldSpec]) -> dict[str, Any]:
    return {"fields": fields, "values": request.form}


def _dead_link(desk: SupportDesk, token: str, purpose: TokenPurpose) -> str | None:
    """Why an e-mailed link no longer works, asked before its form is shown; None if it works."""
    try:
        desk.check_link(token, purpose)
    except (InvalidToken, ValidationError) as refused:
        return _said(refused)
    return None


def _said(refused: SupportDeskError) -> str:
    """What a refusal tells the person: each field's problem, or the refusal itself."""
    if isinstance(refused, ValidationError):
        return "; ".join(refused.errors.values())
    return str(refused)


Step = Callable[[SupportDesk, Contact, str, Request], object]


def _upload(desk: SupportDesk, me: Contact, reference: str, form: Request) -> object:
    for upload in form.files.getlist("files"):
        if upload.filename:  # "Attach" with no file chosen sends an empty part
            desk.attach(me, reference, upload.filename, upload.stream)
    return None


def _priority(form: Request) -> Priority:
    try:
        return Priority[form.form.get("priority", "").upper()]
    except KeyError:
        raise ValidationError({"priority": "Choose a priority."}) from None


ACTIONS: dict[str, Step] = {
    "escalate": lambda d, me, ref, r: d.escalate(me, ref, r.form.get("reason", "")),
    "resolve": lambda d, me, ref, r: d.resolve(me, ref, r.form.get("comment", "")),
    "cancel": lambda d, me, ref, r: d.cancel(me, ref),
    "close": lambda d, me, ref, r: d.close(me, ref),
    "reopen": lambda d, me, ref, r: d.reopen(me, ref),
    "notifications": lambda d, me, ref, r: d.set_notifications(me, ref, r.form.get("on") == "1"),
    "share": lambda d, me, ref, r: d.add_collaborator(me, ref, r.form.get("email", "")),
    "unshare": lambda d, me, ref, r: d.remove_collaborator(me, ref, r.form.get("contact_id", "")),
    "organization": lambda d, me, ref, r: d.set_organization_sharing(
        me, ref, r.form.get("on") == "1"
    ),
    "files": _upload,
    "ask_customer": lambda d, me, ref, r: d.ask_customer(me, ref, r.form.get("body", "")),
    "wait_for": lambda d, me, ref, r: d.wait_for(me, ref, r.form.get("whom", "")),
    "note": lambda d, me, ref, r: d.add_note(me, ref, r.form.get("body", "")),
    "assign": lambda d, me, ref, r: d.assign(me, ref, r.form.get("assignee_id", me.id)),
    "unassign": lambda d, me, ref, r: d.unassign(me, ref),
    "priority": lambda d, me, ref, r: d.set_priority(me, ref, _priority(r)),
    "request_type": lambda d, me, ref, r: d.change_request_type(me, ref, r.form.get("to", "")),
}
"""What each button of a request page does: one call to the desk each."""
