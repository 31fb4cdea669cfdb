"""The views of the Django recipe, and the middleware that answers supportdesk's errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from supportdesk import Contact, Submission, SupportDeskError, ValidationError

from ..pages import request_page, requests_page
from ..seed import LOGIN_HEADER
from .apps import desk


class SupportDeskErrors:
    """Middleware: a :class:`~supportdesk.SupportDeskError` becomes JSON with its HTTP status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, error: Exception) -> HttpResponse | None:
        if not isinstance(error, SupportDeskError):
            return None
        body: dict[str, Any] = {"error": str(error)}
        if isinstance(error, ValidationError):
            body["fields"] = error.errors
        return JsonResponse(body, status=error.http_status)


def _contact(request: HttpRequest) -> Contact | None:
    """The signed-in person as a contact (under django.contrib.auth: ``request.user.email``)."""
    email = request.headers.get(LOGIN_HEADER)
    return desk().find_contact(email) if email else None


def requests(request: HttpRequest) -> HttpResponse:
    """The requests list, "Created by me" (GET); raise a request from a JSON form (POST)."""
    contact = _contact(request)
    if contact is None:
        return HttpResponse(status=401)
    if request.method == "POST":
        form = json.loads(request.body or b"{}")
        submission = Submission(
            summary=form.get("summary", ""), description=form.get("description", "")
        )
        ticket = desk().open_ticket(contact, form.get("request_type", ""), submission)
        return JsonResponse({"reference": ticket.reference}, status=201)
    return JsonResponse(requests_page(desk().list_tickets(contact)))


@require_GET
def view_request(request: HttpRequest, reference: str) -> HttpResponse:
    """The request page."""
    contact = _contact(request)
    if contact is None:
        return HttpResponse(status=401)
    return JsonResponse(request_page(desk().view_ticket(contact, reference)))


@require_POST
def share_update(request: HttpRequest, reference: str) -> HttpResponse:
    """Share a public update on the request."""
    contact = _contact(request)
    if contact is None:
        return HttpResponse(status=401)
    desk().share_update(contact, reference, json.loads(request.body or b"{}").get("body", ""))
    return HttpResponse(status=204)
