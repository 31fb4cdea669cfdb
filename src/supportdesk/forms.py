"""Forms: clean what a person typed into a form, or report every error at once.

A :class:`Submission` holds raw values as a web form or a JSON body gives
them.  :func:`validate_submission` checks it against a
:class:`~supportdesk._models.RequestType` and returns typed custom field
values, or raises :class:`~supportdesk._errors.ValidationError` listing every
problem by field, in words a customer understands.  Each
:class:`~supportdesk._models.FieldKind` has one small validator, looked up in
:data:`_VALIDATORS`.  The same engine (:func:`clean_fields`) checks the
sign-up form's details, and :func:`check_fields` checks a form's definition
before it is kept: a field shown only when another has some values
(``visible_when``) and options that depend on another choice (``options_by``)
must name fields and options that exist.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import date, datetime
from types import MappingProxyType

import attrs

from ._errors import ValidationError
from ._input import (
    EMAIL,
    LONG_TEXT,
    SHORT_TEXT,
    check_id,
    check_text,
    check_texts,
    check_type,
    text_problem,
)
from ._models import DependentOptions, FieldKind, FieldSpec, FieldValue, RequestType

__all__ = [
    "CleanedSubmission",
    "DEFAULT_MAX_LENGTH",
    "DESCRIPTION_MAX_LENGTH",
    "NUMBER_LIMIT",
    "SUMMARY_MAX_LENGTH",
    "Submission",
    "check_fields",
    "clean_fields",
    "describe_form",
    "field_text",
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
# "on" is what an HTML checkbox without a value attribute sends when ticked.
_TRUE_WORDS = frozenset({"yes", "true", "on"})
_FALSE_WORDS = frozenset({"no", "false", "off"})
_CONTROLLERS = frozenset({FieldKind.CHOICE, FieldKind.MULTI_CHOICE, FieldKind.YES_NO})
"""The kinds of field a ``visible_when`` condition may name."""
_YES_NO_ANSWERS = ("yes", "no")


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


def describe_form(
    form: RequestType | Iterable[FieldSpec], *, staff: bool = False
) -> tuple[FieldSpec, ...]:
    """The fields a form shows to its audience, in order, with the conditions a renderer needs.

    Each field's ``visible_when`` and ``options_by`` say when to show it and
    which options to offer, so that a page can show, hide and fill fields as
    the person answers (``to_data`` of each field is JSON a script can read;
    see ``docs/forms.md``).  The server applies the same rules whatever the
    page did.

    :param form: a request type, or the fields of a form (a
        :class:`~supportdesk.SignupPolicy`'s ``fields``).
    :param staff: True for agents and admins, who also see internal-only fields.
    :returns: the fields to show; internal-only ones only when ``staff`` is True.
    """
    specs = form.fields if isinstance(form, RequestType) else tuple(form)
    return tuple(spec for spec in specs if staff or not spec.internal)


def validate_submission(
    request_type: RequestType, submission: Submission, *, staff: bool = False
) -> CleanedSubmission:
    """Check a submission against its request type's form and return it cleaned.

    :param request_type: the request type the submission is for.
    :param submission: the raw form values.
    :param staff: True when an agent or admin submits; only they may fill
        internal-only fields.
    :returns: the stripped summary and description and the typed custom field
        values; optional fields left empty, and hidden fields, are omitted.
    :raises ValidationError: with every problem at once, by field key
        (``"summary"``, ``"description"`` or a custom field's key).
    """
    errors: dict[str, str] = {}
    summary = _clean_summary(submission.summary, errors)
    description = _clean_description(request_type, submission.description, errors)
    fields = clean_fields(request_type.fields, submission.fields, errors, staff=staff)
    if errors:
        raise ValidationError(errors)
    return CleanedSubmission(summary=summary, description=description, fields=fields)


def _clean_summary(raw: object, errors: dict[str, str]) -> str:
    summary = raw.strip() if isinstance(raw, str) else ""
    if not summary:
        errors["summary"] = "Enter a summary."
    else:
        _check_into(errors, "summary", summary, SUMMARY_MAX_LENGTH, one_line=True)
    return summary


def _clean_description(request_type: RequestType, raw: object, errors: dict[str, str]) -> str:
    if raw is not None and not isinstance(raw, str):
        errors["description"] = "Enter text."
        return ""
    description = (raw or "").strip()
    if request_type.description_required and not description:
        errors["description"] = "Enter a description."
    else:
        _check_into(errors, "description", description, DESCRIPTION_MAX_LENGTH)
    return description


def _check_into(
    errors: dict[str, str], key: str, text: str, limit: int, *, one_line: bool = False
) -> None:
    """:func:`_check_length`, its refusal put in ``errors`` under ``key``."""
    try:
        _check_length(text, limit, one_line=one_line)
    except _Refused as refused:
        errors[key] = refused.message


def clean_fields(
    specs: Iterable[FieldSpec],
    raw: Mapping[str, object],
    errors: dict[str, str],
    *,
    staff: bool = False,
) -> dict[str, FieldValue]:
    """The typed values of the fields shown; what is wrong goes to ``errors``, by field key.

    Fields are taken in order, so that a field's conditions read the cleaned
    values of the fields before it.  A hidden field (its ``visible_when`` does
    not hold, its ``options_by`` offers nothing for the value chosen, or a
    field it depends on is hidden or wrong) is neither required nor stored,
    and a value sent for it is ignored: a page that hid it may still send it.
    A key that is no field of the form is an error.

    :param specs: the form's fields, in order.
    :param raw: the values as sent, by field key.
    :param errors: where each problem is added; a key already there keeps
        its message.
    :param staff: True when an agent or admin submits; only they see
        internal-only fields, which read as unknown to anyone else.
    :returns: the typed values of the shown fields that were filled in.
    """
    shown = describe_form(specs, staff=staff)
    by_key = {spec.key: spec for spec in shown}
    cleaned: dict[str, FieldValue] = {}
    settled: set[str] = set()  # Shown fields whose value is known: valid, or left empty.
    for spec in shown:
        options = _offered(spec, by_key, cleaned, settled)
        if options is None:
            continue
        value = raw.get(spec.key)
        if _is_empty(value):
            if spec.required:
                errors.setdefault(spec.key, _MISSING.get(spec.kind, "Enter a value."))
            settled.add(spec.key)
            continue
        if options != spec.options:
            spec = attrs.evolve(spec, options=options)
        try:
            cleaned[spec.key] = _VALIDATORS[spec.kind](spec, value)
        except _Refused as refused:
            errors.setdefault(spec.key, refused.message)
        else:
            settled.add(spec.key)
    # Internal-only fields are absent from a customer's specs, so they read as
    # unknown too: a customer learns nothing about them.  setdefault keeps the
    # summary's or description's own error if a stray key shares its name.
    for key in raw:
        if key not in by_key:
            errors.setdefault(key, _UNKNOWN_FIELD)
    return cleaned


def _offered(
    spec: FieldSpec,
    by_key: Mapping[str, FieldSpec],
    cleaned: Mapping[str, FieldValue],
    settled: Collection[str],
) -> tuple[str, ...] | None:
    """The options ``spec`` offers given the fields before it (its own, if it has none), or
    None when it is hidden."""
    for key, values in spec.visible_when.items():
        if key not in settled or not _answers(by_key[key], cleaned.get(key)) & set(values):
            return None
    if spec.options_by is None:
        return spec.options
    picked = cleaned.get(spec.options_by.field)
    if spec.options_by.field not in settled or not isinstance(picked, str):
        return None
    mapped = spec.options_by.options.get(picked)
    # In the field's own order, as a page lists them, whatever order the mapping has.
    return None if mapped is None else tuple(o for o in spec.options if o in mapped)


def _answers(spec: FieldSpec, value: FieldValue) -> frozenset[str]:
    """What a field's value reads as in a ``visible_when`` condition."""
    if spec.kind is FieldKind.YES_NO:
        # An unticked checkbox sends nothing: an empty yes/no is a "no".
        return frozenset({"yes" if value is True else "no"})
    if isinstance(value, tuple):
        return frozenset(value)
    return frozenset() if value is None else frozenset({str(value)})


def field_text(value: FieldValue) -> str:
    """A cleaned field value as text, for an event's payload or an e-mail.

    Yes/no reads ``yes`` or ``no``, a date ``YYYY-MM-DD``, the options picked
    are joined by ``", "``, None is empty.
    """
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ", ".join(value)
    return "" if value is None else str(value)


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


def check_fields(specs: object, *, name: str = "fields") -> tuple[FieldSpec, ...]:
    """Refuse a form definition that no store keeps alike or that nobody could fill in.

    Each field needs a unique one-line key and label, valid text, a pattern
    that compiles and finite bounds.  Its ``visible_when`` may name only a
    choice, multi-choice or yes/no field that comes before it, with values
    that field has (its options, or ``yes``/``no``); its ``options_by`` only
    a choice field before it, mapping that field's options to options of its
    own.  A field customers fill in may depend on no internal-only field.

    :param specs: the form's fields, a tuple of :class:`~supportdesk.FieldSpec`.
    :param name: the field every problem is reported on.
    :returns: ``specs``, once they pass.
    :raises ValidationError: on ``name``, naming the form field and what is wrong.
    :raises TypeError: naming ``name`` for a value of the wrong Python type.
    """
    specs = check_type(name, specs, tuple)
    for spec in specs:
        _check_spec(spec, name)
    keys = [spec.key for spec in specs]
    earlier: dict[str, FieldSpec] = {}
    for spec in specs:
        if spec.key in earlier:
            raise _definition(name, spec, "two fields share this key")
        _check_visible_when(spec, earlier, keys, name)
        _check_options_by(spec, earlier, keys, name)
        earlier[spec.key] = spec
    return specs


def _definition(name: str, spec: FieldSpec, problem: str) -> ValidationError:
    return ValidationError({name: f"{spec.key}: {problem}"})


def _check_spec(spec: object, name: str) -> None:
    """Refuse a field whose key, label, options, pattern or bounds no store keeps alike."""
    spec = check_type(name, spec, FieldSpec)
    check_id(name, spec.key)
    if not spec.key.strip():
        raise ValidationError({name: "give every field a key"})
    check_text(name, spec.label, required=True, one_line=True)
    check_type(name, spec.kind, FieldKind)
    check_type(name, spec.required, bool)
    check_type(name, spec.internal, bool)
    check_text(name, spec.help_text, max_length=LONG_TEXT)
    if spec.max_length is not None:
        check_type(name, spec.max_length, int)
        if spec.max_length < 1:
            raise _definition(name, spec, "max_length must be 1 or more")
    if spec.pattern is not None:
        check_text(name, spec.pattern, one_line=True)
        try:
            re.compile(spec.pattern)
        except re.error as error:
            raise _definition(name, spec, f"invalid pattern: {error}") from None
    check_type(name, spec.options, tuple)
    check_texts(name, spec.options)
    for bound in (spec.min_value, spec.max_value):
        if bound is not None:
            check_type(name, bound, (int, float))
            if not math.isfinite(bound):
                raise _definition(name, spec, "bounds must be finite numbers")
    check_type(name, spec.visible_when, Mapping)
    if spec.options_by is not None:
        check_type(name, spec.options_by, DependentOptions)
        check_type(name, spec.options_by.options, Mapping)


def _controller(
    spec: FieldSpec, key: object, earlier: Mapping[str, FieldSpec], keys: list[str], name: str
) -> FieldSpec:
    """The earlier field ``key`` names, that ``spec``'s condition reads."""
    key = check_id(name, key)
    found = earlier.get(key)
    if found is None and key in keys:
        raise _definition(name, spec, f"it depends on {key!r}, which must come before it")
    if found is None:
        raise _definition(name, spec, f"it depends on {key!r}, which is no field of this form")
    if found.internal and not spec.internal:
        raise _definition(
            name, spec, f"it depends on {key!r}, an internal-only field customers never see"
        )
    return found


def _check_values(
    spec: FieldSpec, controller: FieldSpec, values: object, known: tuple[str, ...], name: str
) -> tuple[str, ...]:
    """``values``, once each is one of ``known``: the answers ``controller`` can give."""
    check_type(name, values, tuple)
    listed = check_texts(name, values)
    unknown = [value for value in listed if value not in known]
    if not listed:
        raise _definition(name, spec, f"list at least one option of {controller.key!r}")
    if unknown:
        allowed = ", ".join(known) or "none"
        raise _definition(
            name,
            spec,
            f"{', '.join(map(repr, unknown))} is no option of {controller.key!r} "
            f"(it has: {allowed})",
        )
    return listed


def _check_visible_when(
    spec: FieldSpec, earlier: Mapping[str, FieldSpec], keys: list[str], name: str
) -> None:
    for key, values in spec.visible_when.items():
        controller = _controller(spec, key, earlier, keys, name)
        if controller.kind not in _CONTROLLERS:
            raise _definition(
                name,
                spec,
                f"visible_when may name a choice, multi-choice or yes/no field, "
                f"not the {controller.kind.value} field {key!r}",
            )
        known = _YES_NO_ANSWERS if controller.kind is FieldKind.YES_NO else controller.options
        _check_values(spec, controller, values, known, name)


def _check_options_by(
    spec: FieldSpec, earlier: Mapping[str, FieldSpec], keys: list[str], name: str
) -> None:
    if spec.options_by is None:
        return
    parent = _controller(spec, spec.options_by.field, earlier, keys, name)
    if parent.kind is not FieldKind.CHOICE or spec.kind not in (
        FieldKind.CHOICE,
        FieldKind.MULTI_CHOICE,
    ):
        raise _definition(
            name, spec, "options_by makes a choice or multi-choice field depend on a choice field"
        )
    for value, offered in spec.options_by.options.items():
        _check_values(spec, parent, (value,), parent.options, name)
        _check_values(spec, spec, offered, spec.options, name)
