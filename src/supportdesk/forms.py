"""Request-type form validation: clean what a customer typed, or report every error at once.

A :class:`Submission` holds raw values as a web form or a JSON body gives
them.  :func:`validate_submission` checks it against a
:class:`~supportdesk._models.RequestType` and returns typed custom field
values, or raises :class:`~supportdesk._errors.ValidationError` listing every
problem by field, in words a customer understands.  Each
:class:`~supportdesk._models.FieldKind` has one small validator, looked up in
:data:`_VALIDATORS`.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from types import MappingProxyType

import attrs

from ._errors import ValidationError
from ._input import EMAIL, LONG_TEXT, SHORT_TEXT, text_problem
from ._models import FieldKind, FieldSpec, FieldValue, RequestType

__all__ = [
    "CleanedSubmission",
    "DEFAULT_MAX_LENGTH",
    "DESCRIPTION_MAX_LENGTH",
    "NUMBER_LIMIT",
    "SUMMARY_MAX_LENGTH",
    "Submission",
    "describe_form",
    "validate_submission",
]

DEFAULT_MAX_LENGTH = SHORT_TEXT
"""The longest short text field when its :class:`FieldSpec` sets no ``max_length``."""

SUMMARY_MAX_LENGTH = SHORT_TEXT
"""The longest summary a ticket may have (one line)."""

DESCRIPTION_MAX_LENGTH = LONG_TEXT
"""The longest description, and long text field, a ticket may have."""

NUMBER_LIMIT = 10**15
"""The largest number (either sign) a number field takes: every store keeps it exactly."""

_UNKNOWN_FIELD = "Unknown field."

_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
# float() alone would also take "nan", "1_000" and non-ASCII digits.
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_NUMBER_DIGITS = 64
"""The longest text a number field reads as a number."""
_TRUE_WORDS = frozenset({"yes", "true"})
_FALSE_WORDS = frozenset({"no", "false"})


def _read_only(fields: Mapping[str, object]) -> Mapping[str, object]:
    # A copy, so that a frozen submission cannot change behind the validator's back.
    return MappingProxyType(dict(fields))


@attrs.frozen(kw_only=True)
class Submission:
    """What a customer typed into a request type's form."""

    summary: str
    """The one-line summary of the request."""
    description: str = ""
    """The free-text description; may be empty."""
    fields: Mapping[str, object] = attrs.field(factory=dict, converter=_read_only)
    """Custom field values by field key, raw as a web form or JSON gives them: ``str``, ``int``,
    ``float``, ``bool``, a list of ``str``, :class:`datetime.date` or ``None``."""


@attrs.frozen(kw_only=True)
class CleanedSubmission:
    """A submission that passed validation: stripped texts and typed field values.

    :param summary: the summary, stripped of surrounding whitespace.
    :param description: the description, stripped of surrounding whitespace.
    :param fields: the custom field values, typed by kind; optional fields left
        empty are absent.
    """

    summary: str
    description: str
    fields: Mapping[str, FieldValue]


class _Refused(Exception):
    """A raw value a validator will not take; ``message`` is for the customer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def describe_form(request_type: RequestType, *, staff: bool = False) -> tuple[FieldSpec, ...]:
    """The custom fields a form shows to its audience, in the request type's order.

    :param request_type: the request type whose form is shown.
    :param staff: True for agents and admins, who also see internal-only fields.
    :returns: the fields to show; internal-only ones only when ``staff`` is True.
    """
    return tuple(spec for spec in request_type.fields if staff or not spec.internal)


def validate_submission(
    request_type: RequestType, submission: Submission, *, staff: bool = False
) -> CleanedSubmission:
    """Check a submission against its request type's form and return it cleaned.

    :param request_type: the request type the submission is for.
    :param submission: the raw form values.
    :param staff: True when an agent or admin submits; only they may fill
        internal-only fields.
    :returns: the stripped summary and description and the typed custom field
        values; optional fields left empty are omitted.
    :raises ValidationError: with every problem at once, by field key
        (``"summary"``, ``"description"`` or a custom field's key).
    """
    errors: dict[str, str] = {}
    summary = _clean_summary(submission.summary, errors)
    description = _clean_description(request_type, submission.description, errors)
    fields = _clean_fields(describe_form(request_type, staff=staff), submission.fields, errors)
    if errors:
        raise ValidationError(errors)
    return CleanedSubmission(summary=summary, description=description, fields=fields)


def _clean_summary(raw: object, errors: dict[str, str]) -> str:
    summary = raw.strip() if isinstance(raw, str) else ""
    if not summary:
        errors["summary"] = "Enter a summary."
    elif len(summary) > SUMMARY_MAX_LENGTH:
        errors["summary"] = _too_long(SUMMARY_MAX_LENGTH)
    elif problem := text_problem(summary, one_line=True):
        errors["summary"] = problem
    return summary


def _clean_description(request_type: RequestType, raw: object, errors: dict[str, str]) -> str:
    if raw is not None and not isinstance(raw, str):
        errors["description"] = "Enter text."
        return ""
    description = (raw or "").strip()
    if request_type.description_required and not description:
        errors["description"] = "Enter a description."
    elif len(description) > DESCRIPTION_MAX_LENGTH:
        errors["description"] = _too_long(DESCRIPTION_MAX_LENGTH)
    elif problem := text_problem(description, max_length=DESCRIPTION_MAX_LENGTH):
        errors["description"] = problem
    return description


def _clean_fields(
    specs: tuple[FieldSpec, ...], raw: Mapping[str, object], errors: dict[str, str]
) -> dict[str, FieldValue]:
    cleaned: dict[str, FieldValue] = {}
    for spec in specs:
        value = raw.get(spec.key)
        if _is_empty(value):
            if spec.required:
                errors[spec.key] = _MISSING.get(spec.kind, "Enter a value.")
            continue
        try:
            cleaned[spec.key] = _VALIDATORS[spec.kind](spec, value)
        except _Refused as refused:
            errors[spec.key] = refused.message
    # Internal-only fields are absent from a customer's specs, so they read as
    # unknown too: a customer learns nothing about them.  setdefault keeps the
    # summary's or description's own error if a stray key shares its name.
    known = {spec.key for spec in specs}
    for key in raw:
        if key not in known:
            errors.setdefault(key, _UNKNOWN_FIELD)
    return cleaned


def _is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple) and not value


_MISSING: Mapping[FieldKind, str] = {
    FieldKind.CHOICE: "Choose an option.",
    FieldKind.MULTI_CHOICE: "Choose at least one option.",
    FieldKind.DATE: "Enter a date.",
    FieldKind.EMAIL: "Enter an e-mail address.",
    FieldKind.YES_NO: "Answer yes or no.",
}


def _too_long(limit: int) -> str:
    return f"Use at most {limit:,} characters."


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _Refused("Enter text.")
    return value.strip()


def _check_length(text: str, limit: int | None, *, one_line: bool = False) -> str:
    """``text`` within ``limit`` (never beyond :data:`DESCRIPTION_MAX_LENGTH`) and valid text."""
    most = DESCRIPTION_MAX_LENGTH if limit is None else min(limit, DESCRIPTION_MAX_LENGTH)
    if len(text) > most:
        raise _Refused(_too_long(most))
    problem = text_problem(text, max_length=most, one_line=one_line)
    if problem is not None:
        raise _Refused(problem)
    return text


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    # Request types are few and long-lived: compile each pattern once.
    return re.compile(pattern)


def _short_text(spec: FieldSpec, value: object) -> FieldValue:
    limit = spec.max_length if spec.max_length is not None else DEFAULT_MAX_LENGTH
    text = _check_length(_text(value), limit, one_line=True)
    if spec.pattern is not None and _compiled(spec.pattern).fullmatch(text) is None:
        hint = f" {spec.help_text}" if spec.help_text else ""
        raise _Refused(f"Enter a value in the expected format.{hint}")
    return text


def _long_text(spec: FieldSpec, value: object) -> FieldValue:
    return _check_length(_text(value), spec.max_length)


def _options_hint(spec: FieldSpec) -> str:
    return ", ".join(spec.options)


def _choice(spec: FieldSpec, value: object) -> FieldValue:
    text = value.strip() if isinstance(value, str) else ""
    if text not in spec.options:
        raise _Refused(f"Choose one of: {_options_hint(spec)}.")
    return text


def _multi_choice(spec: FieldSpec, value: object) -> FieldValue:
    # A form with a single ticked box may send a bare string rather than a list.
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise _Refused(f"Choose from: {_options_hint(spec)}.")
    picked = [item.strip() for item in items]
    if any(item not in spec.options for item in picked):
        raise _Refused(f"Choose only from: {_options_hint(spec)}.")
    if len(set(picked)) != len(picked):
        raise _Refused("Choose each option only once.")
    # Options order, so that equal picks compare equal however they were sent.
    return tuple(option for option in spec.options if option in picked)


def _parse_number(value: object) -> int | float:
    # bool is an int subclass, but True is no answer to "how many?".
    if isinstance(value, int | float) and not isinstance(value, bool):
        number: int | float = value
    elif not isinstance(value, str) or len(text := value.strip()) > _NUMBER_DIGITS:
        raise _Refused("Enter a number.")
    elif _INTEGER.fullmatch(text):
        number = int(text)
    elif _DECIMAL.fullmatch(text):
        number = float(text)
    else:
        raise _Refused("Enter a number.")
    if isinstance(number, float) and not math.isfinite(number):
        raise _Refused("Enter a number.")
    if abs(number) > NUMBER_LIMIT:
        raise _Refused(f"Enter a number between -{NUMBER_LIMIT:,} and {NUMBER_LIMIT:,}.")
    return number


def _bound(limit: float) -> str:
    return str(int(limit)) if float(limit).is_integer() else str(limit)


def _number(spec: FieldSpec, value: object) -> FieldValue:
    number = _parse_number(value)
    if spec.min_value is not None and number < spec.min_value:
        raise _Refused(f"Enter a number no less than {_bound(spec.min_value)}.")
    if spec.max_value is not None and number > spec.max_value:
        raise _Refused(f"Enter a number no greater than {_bound(spec.max_value)}.")
    return number


def _date(spec: FieldSpec, value: object) -> FieldValue:
    # A datetime is a date too, but its time and zone would be silently dropped.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = value.strip() if isinstance(value, str) else ""
    if not _ISO_DATE.fullmatch(text):
        raise _Refused("Enter a date as YYYY-MM-DD.")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _Refused("Enter a date that exists, as YYYY-MM-DD.") from None


def _looks_like_email(text: str) -> bool:
    local, at, domain = text.partition("@")
    labels = domain.split(".")
    return (
        bool(at and local)
        and "@" not in domain
        and len(labels) > 1
        and all(labels)
        and not any(char.isspace() for char in text)
    )


def _email(spec: FieldSpec, value: object) -> FieldValue:
    text = _check_length(_text(value), EMAIL, one_line=True)
    if not _looks_like_email(text):
        raise _Refused("Enter an e-mail address like name@example.com.")
    return text


def _yes_no(spec: FieldSpec, value: object) -> FieldValue:
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else ""
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise _Refused("Answer yes or no.")


_VALIDATORS: Mapping[FieldKind, Callable[[FieldSpec, object], FieldValue]] = {
    FieldKind.SHORT_TEXT: _short_text,
    FieldKind.LONG_TEXT: _long_text,
    FieldKind.CHOICE: _choice,
    FieldKind.MULTI_CHOICE: _multi_choice,
    FieldKind.NUMBER: _number,
    FieldKind.DATE: _date,
    FieldKind.EMAIL: _email,
    FieldKind.YES_NO: _yes_no,
}
"""One validator per field kind: each returns the typed value or raises :class:`_Refused`."""
