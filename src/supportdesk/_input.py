"""Input at the boundary: each text, e-mail address and value a use case takes, checked once.

The same checks run before any store sees the value, so every store accepts
and refuses the same input, with the same :class:`ValidationError` naming the
field (and a :class:`TypeError` naming the parameter for a wrong Python type).
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Final, TypeVar, overload

from email_validator import EmailNotValidError, validate_email

from ._errors import ValidationError

SHORT_TEXT: Final = 255
"""Names, summaries, titles, filenames: one line."""
LONG_TEXT: Final = 100_000
"""Descriptions, updates, notes, article bodies: about 15,000 words."""
SEARCH_TEXT: Final = 500
"""What a search box takes."""
EMAIL: Final = 254
"""The longest address SMTP carries (RFC 5321)."""
ID_TEXT: Final = 64
"""Ids, references and keys: what the SQL stores keep in an id column."""
LABEL_TEXT: Final = 64
"""Whom a ticket waits for (its sub-status), as the SQL stores keep it."""

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")


@overload
def check_type(name: str, value: object, expected: type[T]) -> T: ...
@overload
def check_type(name: str, value: object, expected: type | tuple[type, ...]) -> object: ...
def check_type(name: str, value: object, expected: type | tuple[type, ...]) -> object:
    """``value``, typed as ``expected``; a :class:`TypeError` naming the parameter if it is not."""
    # bool is an int to Python, never to a caller that asked for a number.
    types = expected if isinstance(expected, tuple) else (expected,)
    if not isinstance(value, expected) or (isinstance(value, bool) and bool not in types):
        wanted = " or ".join(t.__name__ for t in types)
        raise TypeError(f"{name} must be {wanted}, not {type(value).__name__}")
    return value


def check_text(
    name: str,
    value: object,
    *,
    max_length: int = SHORT_TEXT,
    required: bool = False,
    one_line: bool = False,
) -> str:
    """``value`` as given, once it is a ``str`` a store can keep and a person can read.

    Refused, as a :class:`ValidationError` on ``name``: lone surrogates (a
    JSON body can carry ``"\\ud800"``), NUL, more than ``max_length``
    characters, a blank value when ``required``, and line breaks when
    ``one_line``.  A non-string is a :class:`TypeError`.
    """
    text = check_type(name, value, str)
    problem = text_problem(text, max_length=max_length, required=required, one_line=one_line)
    if problem is not None:
        raise ValidationError({name: problem})
    return text


def check_id(name: str, value: object) -> str:
    """``value`` as given, once it is one line of at most :data:`ID_TEXT` characters.

    Ids, references and keys: an unknown one is the caller's to refuse.
    """
    return check_text(name, value, max_length=ID_TEXT, one_line=True)


def check_optional_id(name: str, value: object) -> str | None:
    """As :func:`check_id`, and None stays None."""
    return None if value is None else check_id(name, value)


def check_texts(name: str, values: object, *, max_length: int = SHORT_TEXT) -> tuple[str, ...]:
    """A collection of one-line texts (statuses, tags), each checked as :func:`check_text`.

    A lone ``str`` is a :class:`TypeError`: it would read as its letters.
    """
    if isinstance(values, str | bytes) or not isinstance(values, Collection):
        raise TypeError(f"{name} must be a collection of str, not {type(values).__name__}")
    return tuple(check_text(name, value, max_length=max_length, one_line=True) for value in values)


def check_choice(name: str, value: object, choices: type[E]) -> E:
    """``value`` as a member of the enum ``choices``; its value (``"open"``, ``3``) is taken too.

    A value that is none of them is a :class:`ValidationError` listing them;
    another type, a :class:`TypeError`.
    """
    if isinstance(value, choices):
        return value
    values = [member.value for member in choices]
    plain = tuple({type(v) for v in values})
    if isinstance(value, bool | enum.Enum) or not isinstance(value, plain):
        raise TypeError(f"{name} must be {choices.__name__}, not {type(value).__name__}")
    try:
        return choices(value)
    except ValueError:
        listed = ", ".join(str(v) for v in values)
        raise ValidationError({name: f"Choose one of: {listed}."}) from None


def check_count(name: str, value: object, *, most: int | None = None) -> int:
    """A whole number from 1 (to ``most``): a batch size, a limit."""
    number = check_type(name, value, int)
    if number < 1 or (most is not None and number > most):
        bound = "or more" if most is None else f"to {most:,}"
        raise ValidationError({name: f"Use a whole number from 1 {bound}, not {number}."})
    return number


def check_moment(name: str, value: object, *, before: datetime | None = None) -> datetime:
    """A timezone-aware datetime, and with ``before``, earlier than that."""
    moment = check_type(name, value, datetime)
    if moment.utcoffset() is None:
        raise ValidationError({name: "Use a timezone-aware time (UTC, say)."})
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ValidationError({name: "Use a time within the years 1 to 9999 in UTC."}) from None
    if before is not None and moment >= before:
        raise ValidationError({name: f"Use a time before {before.isoformat()}."})
    return moment


def check_duration(name: str, value: object, *, most: timedelta | None = None) -> timedelta:
    """A :class:`~datetime.timedelta` longer than zero and, with ``most``, at most that."""
    duration = check_type(name, value, timedelta)
    if duration <= timedelta(0) or (most is not None and duration > most):
        bound = f" and at most {most}" if most is not None else ""
        raise ValidationError({name: f"Use a duration longer than 0{bound}, not {duration}."})
    return duration


def check_stream(name: str, value: object) -> None:
    """Raise :class:`TypeError` naming the parameter unless ``value`` is a readable stream."""
    if not callable(getattr(value, "read", None)):
        raise TypeError(f"{name} must be a binary stream, not {type(value).__name__}")


def text_problem(
    value: str, *, max_length: int = SHORT_TEXT, required: bool = False, one_line: bool = False
) -> str | None:
    """What is wrong with ``value`` as :func:`check_text` sees it, or None."""
    if required and not value.strip():
        return "Enter a value."
    if len(value) > max_length:
        return f"Use at most {max_length:,} characters (this has {len(value):,})."
    if "\x00" in value:
        return "Remove the NUL character."
    # Every character str.splitlines breaks at, as a mail header or a log line would; the
    # "x" makes a trailing break a second line too.
    if one_line and len(f"{value}x".splitlines()) > 1:
        return "Use one line, without line breaks."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Use valid text: this has a broken character (a lone surrogate)."
    return None


def name_problem(value: str) -> str | None:
    """What is wrong with a person's name (:attr:`~supportdesk.Contact.full_name`), or None.

    A name is one line of at most :data:`SHORT_TEXT` characters, not blank.
    """
    if not value.strip():
        return "Enter a name."
    return text_problem(value, one_line=True)


def check_email(name: str, value: object) -> str:
    """``value`` as a normalised e-mail address (stripped, lower-case), once it is a valid one.

    Validated by ``email-validator`` without DNS look-ups: one ``@``, a
    domain with a dot, no spaces, no CR/LF (no header injection), at most
    :data:`EMAIL` characters.
    """
    text = check_text(name, value, max_length=EMAIL, required=True, one_line=True).strip()
    try:
        validate_email(text, check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        raise ValidationError({name: f"Enter a valid e-mail address: {error}"}) from None
    return text.lower()
