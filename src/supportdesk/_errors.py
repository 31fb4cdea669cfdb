"""The errors supportdesk raises: one base class, each error formats its own message."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar


class SupportDeskError(Exception):
    """Base class of every error supportdesk raises on purpose.

    Each class carries the HTTP status a web host answers it with, so that
    one error handler maps them all: ``return str(error), error.http_status``.
    """

    http_status: ClassVar[int] = 500
    """The HTTP status a web host answers this error with."""


class ValidationError(SupportDeskError, ValueError):
    """Input that breaks the rules; ``errors`` maps each field to what is wrong with it.

    Also a :class:`ValueError`, so code that catches bad values catches it.
    """

    http_status: ClassVar[int] = 422
    """Unprocessable content: the input breaks a rule; ``errors`` says which."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors: dict[str, str] = dict(errors)
        listed = "; ".join(f"{field}: {message}" for field, message in self.errors.items())
        super().__init__(f"invalid input: {listed}")


class NotFound(SupportDeskError, LookupError):
    """No such object, or none the actor may see (the two are never told apart).

    Also a :class:`LookupError`, so code that catches failed look-ups catches it.
    """

    http_status: ClassVar[int] = 404
    """Not found: also what a ticket the actor may not see answers."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} not found")


class PermissionDenied(SupportDeskError):
    """The actor may see the object but may not do this to it."""

    http_status: ClassVar[int] = 403
    """Forbidden."""

    def __init__(self, action: str, reason: str) -> None:
        self.action = action
        self.reason = reason
        super().__init__(f"may not {action}: {reason}")


class InvalidTransition(SupportDeskError):
    """A workflow trigger that the current status, or the actor, does not allow."""

    http_status: ClassVar[int] = 409
    """Conflict with the ticket's current status."""

    def __init__(self, status: str, trigger: str, party: str, allowed: Iterable[str]) -> None:
        self.status = status
        self.trigger = trigger
        self.party = party
        self.allowed = tuple(allowed)
        options = ", ".join(self.allowed) or "nothing"
        super().__init__(
            f"cannot {trigger!r} a ticket in status {status!r} as {party}; allowed: {options}"
        )


class Conflict(SupportDeskError):
    """The object changed since it was read; read it again and retry."""

    http_status: ClassVar[int] = 409
    """Conflict: read again and retry."""

    def __init__(self, kind: str, key: str, detail: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} changed concurrently: {detail}")


class AttachmentRejected(SupportDeskError):
    """An attachment broke a limit, had a forbidden type or failed its scan."""

    http_status: ClassVar[int] = 422
    """Unprocessable content: the file broke a limit or failed its scan."""

    def __init__(self, filename: str, reason: str) -> None:
        self.filename = filename
        self.reason = reason
        super().__init__(f"attachment {filename!r} rejected: {reason}")


class InvalidToken(SupportDeskError):
    """A sign-up or password reset link that does not work; ``reason`` says why.

    ``reason`` is ``unknown``, ``already used`` or ``expired``, or for a
    reset link ``no longer valid`` (the account was disabled since).
    """

    http_status: ClassVar[int] = 400
    """Bad request: the link is unknown, used or expired."""

    def __init__(self, reason: str, link: str = "sign-up") -> None:
        self.reason = reason
        super().__init__(f"this {link} link is {reason}; request a new one")


class StorageError(SupportDeskError):
    """The storage back end failed; the driver's error is chained as ``__cause__``."""

    http_status: ClassVar[int] = 503
    """Service unavailable: the database failed; retrying may help."""


class WorkflowDefinitionError(SupportDeskError):
    """A workflow definition that cannot work; ``problems`` lists every reason."""

    http_status: ClassVar[int] = 500
    """A configuration error of the host's, not the visitor's."""

    def __init__(self, name: str, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"workflow {name!r} is invalid: " + "; ".join(self.problems))
