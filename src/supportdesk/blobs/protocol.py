"""The blob store contract: where attachment bytes live, and the rules every adapter keeps."""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import BinaryIO, Protocol

import attrs

MAX_KEY_LENGTH = 1024
"""The longest key a blob store accepts, in characters (S3's own limit in bytes)."""

CHUNK_SIZE = 1024 * 1024
"""How many bytes adapters read from an upload stream at a time."""

MAX_FILENAME_BYTES = 255
"""The default longest name :func:`safe_filename` gives, in UTF-8 bytes (most file systems')."""

MIN_FILENAME_BYTES = len("download")
"""The smallest ``max_length`` :func:`safe_filename` takes: its fallback name must fit."""

_KEY_CHARACTERS = re.compile(r"[A-Za-z0-9._/-]*")
_SEGMENT_DOTS = frozenset({".", ".."})
_FALLBACK_UNSAFE = re.compile(r'[^\x20-\x7e]|["\\%]')
_FILENAME_DIRECTORIES = re.compile(r"[/\\]")
# Cc control, Cf format (bidi overrides, zero-width), Cs lone surrogates (not encodable),
# Zl and Zp line and paragraph separators.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*]')
_EDGE_DOTS_AND_SPACES = re.compile(r"^[\s.]+|[\s.]+$")
_WINDOWS_DEVICE_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{number}" for port in ("COM", "LPT") for number in [*"0123456789", *"¹²³"]}
)
_FALLBACK_FILENAME = "download"
# RFC 5987 attr-char, minus what quote() already keeps (letters, digits and "_.-~").
_ATTR_CHAR_EXTRAS = "!#$&+^`|"


@attrs.frozen(kw_only=True)
class BlobInfo:
    """What a blob store learnt about a body while storing it."""

    key: str
    """The key the body is stored under."""
    size: int
    """The length of the body in bytes."""
    sha256: str
    """The SHA-256 digest of the body, as 64 lowercase hex digits."""


class BlobStore(Protocol):
    """Stores attachment bytes under keys; the metadata lives elsewhere (the unit of work).

    Keys are plain strings checked by :func:`validate_key`; every method that
    takes a key raises :class:`ValueError` for an invalid one before touching
    the back end.  A blob is visible whole or not at all: readers never see a
    partly written body, and a failed :meth:`put` leaves no blob behind.
    Failures of the back end itself (network, disk, permissions) surface as
    :class:`~supportdesk.StorageError` with the driver's error chained as
    ``__cause__``; a missing key is :class:`~supportdesk.NotFound` instead.
    Implementations are safe to share between threads.
    """

    def put(
        self, key: str, stream: BinaryIO, *, content_type: str = "application/octet-stream"
    ) -> BlobInfo:
        """Store everything ``stream`` yields until EOF under ``key``, replacing any blob there.

        The body is read in chunks and never held in memory whole (the
        memory store aside); size and SHA-256 are computed on the way.  The
        new body becomes visible in one step, and only once it is complete.
        If reading ``stream`` raises, that exception propagates unchanged; if
        anything fails, no new blob is left behind and an existing blob
        under ``key`` is kept as it was (S3 multipart aside, see
        :class:`~supportdesk.blobs.S3BlobStore`).  Concurrent puts to one key:
        the last to finish wins, whole.

        :param key: where to store the body; see :func:`validate_key`.
        :param stream: a binary stream read from its current position to EOF;
            the store does not close it.
        :param content_type: kept as metadata where the back end has any (S3).
        :returns: the key, size and SHA-256 of what was stored.
        :raises ValueError: the key is invalid.
        :raises ~supportdesk.StorageError: the back end failed.
        """
        ...

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream of the blob under ``key``; the caller closes it.

        :raises ~supportdesk.NotFound: no blob under ``key`` (kind ``"blob"``).
        :raises ~supportdesk.StorageError: the back end failed, also while reading.
        """
        ...

    def delete(self, key: str) -> None:
        """Remove the blob under ``key``; removing a missing blob does nothing.

        :raises ~supportdesk.StorageError: the back end failed.
        """
        ...

    def exists(self, key: str) -> bool:
        """Whether a complete blob is stored under ``key``.

        :raises ~supportdesk.StorageError: the back end failed.
        """
        ...

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every stored key starting with ``prefix``, in ascending order, for orphan sweeps.

        Only valid keys of complete blobs are listed: never the leftovers of
        an upload in progress or failed.  ``prefix`` follows the key rules,
        except that it may be empty or end with ``/``.  Blobs stored or
        deleted while iterating may or may not be listed.

        :raises ValueError: the prefix could never start a valid key.
        :raises ~supportdesk.StorageError: the back end failed.
        """
        ...

    def modified_at(self, key: str) -> datetime:
        """When the blob under ``key`` was last stored: timezone-aware, in UTC.

        Orphan sweeps compare it with a grace period, so that a blob whose
        metadata is still being committed is not swept.  The precision is
        the back end's (one second on S3).

        :raises ~supportdesk.NotFound: no blob under ``key``.
        :raises ~supportdesk.StorageError: the back end failed.
        """
        ...

    def presign(
        self, key: str, *, filename: str, expires_in: timedelta, content_type: str | None = None
    ) -> str | None:
        """A URL that downloads the blob without the host application, or None.

        The URL works for ``expires_in`` and then is refused; it makes the
        browser save the body as ``filename`` (see :func:`content_disposition`)
        rather than display it, and serves ``content_type`` when one is given.
        Stores without URLs of their own (memory, filesystem) return None, and
        the host application streams :meth:`open` instead.  Presigning does
        not check that the blob exists.

        :raises ValueError: the key is invalid; stores that sign URLs also
            refuse an ``expires_in`` beyond their limits.
        :raises ~supportdesk.StorageError: the URL could not be signed.
        """
        ...


def validate_key(key: str) -> str:
    """Check ``key`` against the key rules and return it unchanged.

    A key is 1 to :data:`MAX_KEY_LENGTH` characters from ``A-Z a-z 0-9 . _ / -``,
    split by ``/`` into non-empty segments (so no leading, trailing or doubled
    ``/``), with no ``..`` anywhere and no segment ``.``.  The rules keep keys
    portable between S3 and file systems and make path traversal impossible.

    :raises ValueError: with the rule the key breaks.
    """
    problem = _key_problem(key)
    if problem is not None:
        raise ValueError(f"invalid blob key {key!r}: {problem}")
    return key


def validate_prefix(prefix: str) -> str:
    """Check a key prefix and return it unchanged: empty, or a valid key, maybe ending with ``/``.

    :raises ValueError: with the rule the prefix breaks.
    """
    if prefix:
        problem = _key_problem(prefix.removesuffix("/"))
        if problem is not None:
            raise ValueError(f"invalid blob key prefix {prefix!r}: {problem}")
    return prefix


def is_valid_key(key: str) -> bool:
    """Whether ``key`` keeps the rules of :func:`validate_key`."""
    return _key_problem(key) is None


def _key_problem(key: str) -> str | None:
    if not isinstance(key, str):
        return f"must be a str, not {type(key).__name__}"
    if not key:
        return "must not be empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"longer than {MAX_KEY_LENGTH} characters"
    if _KEY_CHARACTERS.fullmatch(key) is None:
        return "only letters A-Z a-z, digits and . _ / - are allowed"
    if ".." in key:
        return 'must not contain ".."'
    segments = key.split("/")
    if "" in segments:
        return 'must not start or end with "/" nor contain "//"'
    if _SEGMENT_DOTS.intersection(segments):
        return 'must not have a "." segment'
    return None


def safe_filename(filename: str, *, max_length: int = MAX_FILENAME_BYTES) -> str:
    """``filename`` made safe to show, log, send in a header and save on any file system.

    - Directories go: only what follows the last ``/`` or ``\\`` is kept.
    - Control, format, surrogate and line-separator characters go; format
      characters (Unicode category Cf) include the right-to-left override
      that disguises ``evil\\u202etxt.exe`` as ``evilexe.txt``.
    - Each character Windows forbids in names (``< > : " | ? *``) becomes ``_``.
    - Leading and trailing dots and white space go (no hidden files, and
      Windows drops trailing ones anyway).
    - A Windows device name (``CON``, ``PRN``, ``AUX``, ``NUL``, ``COM0``-``COM9``,
      ``LPT0``-``LPT9``, ``CONIN$``, ``CONOUT$``), with or without an
      extension and in any case, gets a ``_`` in front.
    - A name longer than ``max_length`` bytes in UTF-8 is shortened, keeping
      its last extension when that is at most half of ``max_length``.
    - Nothing left gives ``download``.

    The name is NFC-normalized, so the same name typed on macOS and
    elsewhere comes out the same.  The function is idempotent.

    >>> safe_filename("../../etc/passwd")
    'passwd'
    >>> safe_filename("con.txt")
    '_con.txt'
    >>> safe_filename("x" * 300 + ".pdf", max_length=20)
    'xxxxxxxxxxxxxxxx.pdf'

    :param max_length: the most UTF-8 bytes the result may take, at least
        :data:`MIN_FILENAME_BYTES`.
    :raises ValueError: ``max_length`` is too small.
    """
    if max_length < MIN_FILENAME_BYTES:
        raise ValueError(f"max_length must be at least {MIN_FILENAME_BYTES}, got {max_length}")
    name = _FILENAME_DIRECTORIES.split(filename)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    # After dropping: a dropped character between a letter and its accent kept them apart.
    name = unicodedata.normalize("NFC", name)
    name = _strip_dots_and_spaces(_WINDOWS_FORBIDDEN.sub("_", name))
    name = _shorten(name, max_length)
    if _is_device_name(name):
        # Checked after shortening, which can cut "CON xyz.pdf" to the device name "CON .pdf";
        # shortening again cuts from the end, so the prefix stays.
        name = _shorten("_" + name, max_length)
    return name or _FALLBACK_FILENAME


def _strip_dots_and_spaces(name: str) -> str:
    return _EDGE_DOTS_AND_SPACES.sub("", name)


def _shorten(name: str, max_length: int) -> str:
    if len(name.encode()) <= max_length:
        return name
    stem, dot, extension = name.rpartition(".")
    suffix = dot + extension
    if not stem or len(suffix.encode()) > max_length // 2:
        stem, suffix = name, ""
    budget = max_length - len(suffix.encode())
    # Cutting the bytes may split a character; "ignore" drops its dangling start.
    cut = stem.encode()[:budget].decode(errors="ignore")
    return _strip_dots_and_spaces(cut + suffix)


def _is_device_name(name: str) -> bool:
    # Windows ignores the extension and spaces before it: "nul .txt" is the device too.
    return name.partition(".")[0].rstrip().upper() in _WINDOWS_DEVICE_NAMES


def content_disposition(filename: str) -> str:
    """A ``Content-Disposition`` value that forces a download saved as ``filename``.

    The name goes through :func:`safe_filename`.  An ASCII fallback goes in
    ``filename=`` for old clients (RFC 6266); when the name is not plain
    ASCII, the exact name follows UTF-8 percent-encoded in ``filename*=``
    (RFC 5987), which current browsers prefer.

    >>> content_disposition("../Résumé.pdf")
    'attachment; filename="Resume.pdf"; filename*=UTF-8\\'\\'R%C3%A9sum%C3%A9.pdf'
    """
    name = safe_filename(filename)
    fallback = _ascii_fallback(name)
    value = f'attachment; filename="{fallback}"'
    if fallback != name:
        encoded = urllib.parse.quote(name, safe=_ATTR_CHAR_EXTRAS)
        value += f"; filename*=UTF-8''{encoded}"
    return value


def _ascii_fallback(name: str) -> str:
    # Decomposing and dropping the combining marks keeps the base letters (é -> e).
    decomposed = unicodedata.normalize("NFKD", name)
    unaccented = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # "%" is replaced too: some browsers percent-decode the plain filename parameter.
    fallback = _strip_dots_and_spaces(_FALLBACK_UNSAFE.sub("_", unaccented))
    return fallback or _FALLBACK_FILENAME
