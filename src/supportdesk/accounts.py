"""Accounts: single-use link tokens, the desk's sign-up policy and form, password hashing."""

from __future__ import annotations

import binascii
import enum
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol, TypedDict, Unpack

import attrs

from . import _base64
from ._errors import ValidationError
from ._models import AccountToken, FieldSpec, FieldValue, TokenPurpose
from .forms import check_fields

MAX_PASSWORD_LENGTH = 1024
"""The longest password taken, in characters: longer ones are a ValidationError, not work."""


class PasswordHasher(Protocol):
    """Turns passwords into self-describing hash strings and checks them.

    A host may bring its own (argon2, bcrypt); supportdesk only stores the
    string :meth:`hash` returns.
    """

    def hash(self, password: str) -> str:
        """A new hash of ``password``, with its own random salt and parameters."""
        ...

    def verify(self, password: str, hashed: str) -> bool:
        """True when ``password`` matches ``hashed``, compared in constant time.

        A malformed ``hashed`` is False, never an error.
        """
        ...


@attrs.frozen(kw_only=True)
class ScryptHasher:
    """The default :class:`PasswordHasher`: scrypt, memory-hard, from the standard library.

    Hashes read ``scrypt$n$r$p$salt$key`` (salt and key in URL-safe base64),
    so that changing the cost later still verifies old hashes.
    """

    n: int = 2**14
    r: int = 8
    p: int = 1
    salt_bytes: int = 16
    key_bytes: int = 32

    def hash(self, password: str) -> str:
        """A new hash of ``password`` with a fresh random salt."""
        salt = secrets.token_bytes(self.salt_bytes)
        key = _scrypt(password, salt, self.n, self.r, self.p, self.key_bytes)
        return f"scrypt${self.n}${self.r}${self.p}${_base64.encode(salt)}${_base64.encode(key)}"

    def verify(self, password: str, hashed: str) -> bool:
        """Recompute with the hash's own salt and cost; compare with :func:`hmac.compare_digest`."""
        try:
            scheme, n, r, p, salt, key = hashed.split("$")
            if scheme != "scrypt":
                return False
            expected = _base64.decode(key)
            actual = _scrypt(password, _base64.decode(salt), int(n), int(r), int(p), len(expected))
        except (ValueError, binascii.Error):
            return False
        return hmac.compare_digest(actual, expected)


_DECOYS: dict[object, str] = {}
"""Each hasher's decoy hash, by the hasher (its parameters, for a frozen one)."""
_DECOYS_LOCK = threading.Lock()


def decoy_hash(hasher: PasswordHasher) -> str | None:
    """A hash of a random password, made by ``hasher`` once per process; None if it is unhashable.

    Verifying against it costs what verifying a real password costs, so a
    look-up of an unknown address or of one without a password spends the
    same time as a wrong password.  Made on first use and then shared by every
    desk with an equal hasher (:class:`ScryptHasher` instances with the same
    parameters are equal), so a desk costs no hashing to build.
    """
    try:
        made = _DECOYS.get(hasher)
    except TypeError:
        return None
    if made is None:
        with _DECOYS_LOCK:
            made = _DECOYS.get(hasher)
            if made is None:
                made = _DECOYS[hasher] = hasher.hash(secrets.token_urlsafe(16))
    return made


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, size: int) -> bytes:
    # maxmem above the 128 * n * r bytes scrypt needs, as OpenSSL's default is 32 MiB.
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=size, maxmem=256 * n * r + 2**20
    )


@attrs.frozen(kw_only=True)
class SignupDetails:
    """What a person submitted to complete their sign-up, for the policy to judge."""

    email: str
    full_name: str
    organization_id: str | None = None
    details: Mapping[str, FieldValue] = attrs.field(factory=dict)
    """The answers to the sign-up form (:attr:`SignupPolicy.fields`), typed by kind: a
    customer id, a Medicaid id, whether they know their customer id.  Only the fields
    shown and filled in are here."""


class SignupReview(enum.StrEnum):
    """When a completed sign-up waits for an admin."""

    NEVER = "never"
    """Accounts are active at once."""
    ALWAYS = "always"
    """Every account waits for an admin."""
    UNLESS_ACCEPTED = "unless_accepted"
    """Accounts the policy's ``accept`` predicate vouches for are active at once."""


_SIGNUP_PARAMETERS = frozenset({"token", "full_name", "password", "organization_id", "details"})
"""What :meth:`~supportdesk.SupportDesk.complete_signup` names its own errors after: no key
of the sign-up form may be one of them."""


def _check_signup_fields(
    _policy: object, _attribute: attrs.Attribute[Any], fields: tuple[FieldSpec, ...]
) -> None:
    """Refuse a sign-up form :func:`~supportdesk.forms.check_fields` refuses, or one with a
    field nobody signing up can fill in or whose key an error of its own would take."""
    for spec in check_fields(fields):
        if spec.internal:
            raise ValidationError({"fields": f"{spec.key}: a sign-up form has no internal fields"})
        if spec.key in _SIGNUP_PARAMETERS:
            taken = ", ".join(sorted(_SIGNUP_PARAMETERS))
            raise ValidationError({"fields": f"{spec.key}: name it other than {taken}"})


class SignupOptions(TypedDict, total=False):
    """The keyword options of every :class:`SignupPolicy` constructor, each optional."""

    fields: tuple[FieldSpec, ...]
    """The sign-up form (:attr:`SignupPolicy.fields`); none by default."""
    token_lifetime: timedelta
    """How long a sign-up link works; 24 hours by default."""
    reset_token_lifetime: timedelta
    """How long a password reset link works; one hour by default."""
    min_password_length: int
    """The shortest password taken; 10 characters by default."""


@attrs.frozen(kw_only=True)
class SignupPolicy:
    """How a desk takes new accounts and resets passwords; build one with the class methods.

    :raises ValidationError: on ``fields`` for a sign-up form that
        :func:`~supportdesk.forms.check_fields` refuses, that has an
        internal-only field, or a field keyed like a parameter of
        :meth:`~supportdesk.SupportDesk.complete_signup` (``full_name``, say).
    """

    review: SignupReview = SignupReview.NEVER
    accept: Callable[[SignupDetails], bool] | None = None
    fields: tuple[FieldSpec, ...] = attrs.field(default=(), validator=_check_signup_fields)
    """The sign-up form: what a person fills in besides their name and password, checked by
    the engine that checks request types' forms (conditions included).  ``complete_signup``
    refuses details it does not declare."""
    token_lifetime: timedelta = timedelta(hours=24)
    """How long a sign-up link works."""
    reset_token_lifetime: timedelta = timedelta(hours=1)
    """How long a password reset link works."""
    min_password_length: int = 10
    """The shortest password taken, wherever one is set."""

    @classmethod
    def approve_at_once(cls, **options: Unpack[SignupOptions]) -> SignupPolicy:
        """Every completed sign-up is active at once (the default)."""
        return cls(**options)

    @classmethod
    def always_review(cls, **options: Unpack[SignupOptions]) -> SignupPolicy:
        """Every completed sign-up waits for an admin's approval."""
        return cls(review=SignupReview.ALWAYS, **options)

    @classmethod
    def review_unless(
        cls, accept: Callable[[SignupDetails], bool], **options: Unpack[SignupOptions]
    ) -> SignupPolicy:
        """Active at once when ``accept(details)`` holds (a known customer id, say); else review."""
        return cls(review=SignupReview.UNLESS_ACCEPTED, accept=accept, **options)

    def needs_review(self, details: SignupDetails) -> bool:
        """True when this sign-up must wait for an admin."""
        if self.review is SignupReview.UNLESS_ACCEPTED:
            return self.accept is None or not self.accept(details)
        return self.review is SignupReview.ALWAYS


def hash_token(token: str) -> str:
    """How a link's token is stored and looked up: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    contact_id: str, now: datetime, lifetime: timedelta, purpose: TokenPurpose
) -> tuple[str, AccountToken]:
    """A new random token for a link, and the record that stores only its hash."""
    token = secrets.token_urlsafe(32)
    record = AccountToken(
        token_hash=hash_token(token),
        contact_id=contact_id,
        purpose=purpose,
        created_at=now,
        expires_at=now + lifetime,
    )
    return token, record


def token_problem(record: AccountToken | None, now: datetime) -> str | None:
    """Why a token cannot be used at ``now`` (``unknown``, ``used``, ``expired``), or None."""
    if record is None:
        return "unknown"
    if record.used_at is not None:
        return "already used"
    if now >= record.expires_at:
        return "expired"
    return None
