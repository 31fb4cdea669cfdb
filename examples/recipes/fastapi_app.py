"""supportdesk behind FastAPI: the desk and the contact as dependencies, errors as JSON.

The endpoints are plain ``def`` functions: FastAPI runs them in its thread
pool, so the desk's blocking database calls never stall the event loop.
Run it with ``uvicorn examples.recipes.fastapi_app:app`` (a SQLite file
``portal.db`` in the working folder).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from supportdesk import Contact, Submission, SupportDesk, SupportDeskError, ValidationError

from .pages import request_page, requests_page
from .seed import LOGIN_HEADER, seed


class NewRequest(BaseModel):
    """The "Raise a request" form."""

    request_type: str
    summary: str
    description: str = ""


class Update(BaseModel):
    """A public update shared on a request."""

    body: str


def create_app(desk: SupportDesk | None = None) -> FastAPI:
    """The app, on ``desk`` (tests) or on ``portal.db`` (seeded on start)."""
    app = FastAPI(title="Support portal")
    app.state.desk = desk or SupportDesk.from_url("sqlite:///portal.db", create=True)
    seed(app.state.desk)

    @app.exception_handler(SupportDeskError)
    def on_error(request: Request, error: SupportDeskError) -> JSONResponse:
        body: dict[str, Any] = {"error": str(error)}
        if isinstance(error, ValidationError):
            body["fields"] = error.errors
        return JSONResponse(body, status_code=error.http_status)

    @app.get("/requests")
    def my_requests(
        desk: Annotated[SupportDesk, Depends(_desk)],
        contact: Annotated[Contact, Depends(_contact)],
    ) -> dict[str, Any]:
        return requests_page(desk.list_tickets(contact))

    @app.post("/requests", status_code=201)
    def open_request(
        form: NewRequest,
        desk: Annotated[SupportDesk, Depends(_desk)],
        contact: Annotated[Contact, Depends(_contact)],
    ) -> dict[str, str]:
        submission = Submission(summary=form.summary, description=form.description)
        return {"reference": desk.open_ticket(contact, form.request_type, submission).reference}

    @app.get("/requests/{reference}")
    def view_request(
        reference: str,
        desk: Annotated[SupportDesk, Depends(_desk)],
        contact: Annotated[Contact, Depends(_contact)],
    ) -> dict[str, Any]:
        return request_page(desk.view_ticket(contact, reference))

    @app.post("/requests/{reference}/updates", status_code=204)
    def share_update(
        reference: str,
        update: Update,
        desk: Annotated[SupportDesk, Depends(_desk)],
        contact: Annotated[Contact, Depends(_contact)],
    ) -> None:
        desk.share_update(contact, reference, update.body)

    return app


def _desk(request: Request) -> SupportDesk:
    desk: SupportDesk = request.app.state.desk
    return desk


def _contact(
    desk: Annotated[SupportDesk, Depends(_desk)],
    email: Annotated[str | None, Header(alias=LOGIN_HEADER)] = None,
) -> Contact:
    """The signed-in person as a contact; 401 without a login, 404 for a stranger."""
    if not email:
        raise HTTPException(status_code=401)
    return desk.find_contact(email)


def __getattr__(name: str) -> FastAPI:
    # ``uvicorn examples.recipes.fastapi_app:app`` builds the app on first use,
    # so importing the module (its tests do) opens no database.
    if name == "app":
        return create_app()
    raise AttributeError(name)
