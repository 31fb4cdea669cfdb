"""Input at the boundary: each text, e-mail address and value a use case takes, checked once.

The same checks run before any store sees the value, so every store accepts
and refuses the same input, with the same :class:`ValidationError` naming the
field (and a :class:`TypeError` naming the parameter for a wrong Python type).
"""

from __future__ import annotations

from typing import Final

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


def check_type(name: str, value: object, expected: type | tuple[type, ...]) -> None:
    """Raise :class:`TypeError` naming the parameter when ``value`` is not of ``expected``."""
    # bool is an int to Python, never to a caller that asked for a number.
    types = expected if isinstance(expected, tuple) else (expected,)
    if not isinstance(value, expected) or (isinstance(value, bool) and bool not in types):
        wanted = " or ".join(t.__name__ for t in types)
        raise TypeError(f"{name} must be {wanted}, not {type(value).__name__}")


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
    check_type(name, value, str)
    assert isinstance(value, str)
    problem = text_problem(value, max_length=max_length, required=required, one_line=one_line)
    if problem is not None:
        raise ValidationError({name: problem})
    return value


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
    if one_line and ("\n" in value or "\r" in value):
        return "Use one line, without line breaks."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Use valid text: this has a broken character (a lone surrogate)."
    return None


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
