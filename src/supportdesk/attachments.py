"""Taking in attachments whatever the blob store: limits, content sniffing, safe names, scanning.

:func:`receive` is the whole intake of one uploaded file: it refuses what
breaks the desk's :class:`AttachmentLimits` as early as it can tell, judges
the type by the bytes (:func:`sniff_content_type`), never by the client's
name or header, streams the body into a :class:`~supportdesk.blobs.BlobStore`
without holding it in memory, and lets a :class:`Scanner` veto it.  Recording
the attachment's metadata is the caller's job, after this succeeds.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import re
from typing import BinaryIO, Protocol, cast

import attrs

from ._errors import AttachmentRejected, StorageError
from ._models import DEFAULT_ALLOWED_TYPES as DEFAULT_ALLOWED_TYPES
from ._models import DOCX as DOCX
from ._models import KIB as KIB
from ._models import MIB as MIB
from ._models import PPTX as PPTX
from ._models import XLSX as XLSX
from ._models import AttachmentLimits as AttachmentLimits
from ._models import ScanStatus as ScanStatus
from .blobs._streams import Readable, read_up_to
from .blobs.protocol import BlobStore, safe_filename, validate_key

READ_SIZE = 64 * KIB
"""The most bytes :func:`receive` takes from the upload at a time."""

SNIFF_SIZE = 4 * KIB
"""How many leading bytes :func:`sniff_content_type` looks at."""

OCTET_STREAM = "application/octet-stream"
"""What :func:`sniff_content_type` says when nothing matched."""


@attrs.frozen(kw_only=True)
class ScanVerdict:
    """What a :class:`Scanner` decided about one file."""

    clean: bool
    """True when the file may be kept."""
    reason: str = ""
    """Why it was refused, in words fit for the uploader (``"EICAR test signature"``)."""


class Scanner(Protocol):
    """A malware scan hook (ClamAV, a cloud service...), called with the stored bytes."""

    def scan(self, stream: BinaryIO, *, filename: str, content_type: str) -> ScanVerdict:
        """Judge the body that ``stream`` yields.

        :param stream: the stored body from its start; read it in chunks, do
            not close it.
        :param filename: the cleaned name the uploader gave.
        :param content_type: the sniffed type.
        :returns: the verdict; raise only when the scan itself failed: the
            upload then fails with that error, and nothing is kept.
        """
        ...


@attrs.frozen(kw_only=True)
class ReceivedFile:
    """A file :func:`receive` stored: what the attachment's metadata records."""

    key: str
    """The blob key it is stored under."""
    filename: str
    """The uploader's name for it, cleaned by :func:`~supportdesk.blobs.safe_filename`."""
    content_type: str
    """The type sniffed from its bytes."""
    size: int
    """Its length in bytes."""
    sha256: str
    """Its SHA-256 digest, 64 lowercase hex digits."""


# Sniffing ------------------------------------------------------------------------------


@attrs.frozen
class _Magic:
    """A signature: every ``(offset, bytes)`` part must match."""

    content_type: str
    parts: tuple[tuple[int, bytes], ...]

    def matches(self, head: bytes) -> bool:
        return all(head.startswith(expected, offset) for offset, expected in self.parts)


# Checked before markup and text, so that a "#!" script is never taken for plain text.
_ZIP = "application/zip"
_MAGIC = (
    _Magic("image/png", ((0, b"\x89PNG\r\n\x1a\n"),)),
    _Magic("image/jpeg", ((0, b"\xff\xd8\xff"),)),
    _Magic("image/gif", ((0, b"GIF87a"),)),
    _Magic("image/gif", ((0, b"GIF89a"),)),
    _Magic("image/webp", ((0, b"RIFF"), (8, b"WEBP"))),
    _Magic("application/pdf", ((0, b"%PDF-"),)),
    _Magic(_ZIP, ((0, b"PK\x03\x04"),)),
    _Magic(_ZIP, ((0, b"PK\x05\x06"),)),  # an empty archive
    _Magic("application/gzip", ((0, b"\x1f\x8b"),)),
    _Magic("application/vnd.microsoft.portable-executable", ((0, b"MZ"),)),
    _Magic("application/x-elf", ((0, b"\x7fELF"),)),
    _Magic("application/x-mach-binary", ((0, b"\xfe\xed\xfa\xce"),)),
    _Magic("application/x-mach-binary", ((0, b"\xfe\xed\xfa\xcf"),)),
    _Magic("application/x-mach-binary", ((0, b"\xce\xfa\xed\xfe"),)),
    _Magic("application/x-mach-binary", ((0, b"\xcf\xfa\xed\xfe"),)),
    # Universal binaries; Java class files share the magic and are refused alike.
    _Magic("application/x-mach-binary", ((0, b"\xca\xfe\xba\xbe"),)),
    _Magic("text/x-shellscript", ((0, b"#!"),)),
)

# Matched on the head lower-cased, after a byte order mark and white space.  The tags are
# those browsers sniff as HTML (WHATWG MIME Sniffing, section 7.1), each followed by a
# space or ">".
_MARKUP = (
    (
        re.compile(
            rb"<(?:!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title"
            rb"|b|body|br|p|!--)[\s>]"
        ),
        "text/html",
    ),
    (re.compile(rb"<svg[\s>/]"), "image/svg+xml"),
    # Any other markup (an XML declaration, a doctype, a namespaced <svg:svg>): the root
    # element decides, so that no SVG or XHTML passes as text.
    (re.compile(rb"<[?!a-z_]"), "application/xml"),
)
# Unambiguous alternatives: nested repetition here would backtrack exponentially.
_PROLOG_ITEM = re.compile(rb"<!--.*?-->|<[?!][^>]*>", re.S)
_ROOT_ELEMENT = re.compile(rb"<(?:[a-z_][\w.-]*:)?([a-z_][\w.-]*)")
_XML_DIALECTS = {b"svg": "image/svg+xml", b"html": "text/html"}

_BOM = codecs.BOM_UTF8
# WHATWG's "binary data bytes": C0 controls that text never holds.
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")

_OOXML_FOLDERS = ((b"word/", DOCX), (b"xl/", XLSX), (b"ppt/", PPTX))
_OOXML_FIRST_ENTRIES = (b"[Content_Types].xml", b"_rels/.rels")
_ZIP_NAME_OFFSET = 30
"""Where a ZIP's first local file header holds the entry's name."""

_DESCRIPTIONS = {
    "application/vnd.microsoft.portable-executable": "a Windows executable",
    "application/x-elf": "a Linux executable",
    "application/x-mach-binary": "a macOS executable",
    "text/x-shellscript": "a script",
    "text/html": "a web page",
    "image/svg+xml": "an SVG image, which can carry script",
    "application/xml": "an XML document",
    "application/gzip": "a gzip archive",
    OCTET_STREAM: "a file of unknown type",
}


def sniff_content_type(head: bytes) -> str:
    """The type of a file judged by its first bytes, never by its name.

    Recognised: PNG, JPEG, GIF, WebP, PDF, ZIP (Word, Excel and PowerPoint
    files are ZIPs, named as such when the head shows their folders, else
    ``application/zip``), gzip, executables (Windows, Linux, macOS) and
    ``#!`` scripts, then markup: after a byte order mark and white space,
    in any case, the tags browsers sniff as HTML, ``<svg``, and anything
    else starting with ``<`` and a letter, ``?`` or ``!`` (SVG or HTML by
    its root element, else XML).  Then JSON (text starting with ``{`` or
    ``[``) and plain text (UTF-8 without control bytes; CSV is plain text).
    Anything else is ``application/octet-stream``.  An empty head is
    ``text/plain``.

    :param head: the file's first :data:`SNIFF_SIZE` bytes, or all of a
        shorter file (a shorter head is taken to be the whole file); more
        is ignored.
    """
    head = head[:SNIFF_SIZE]
    for magic in _MAGIC:
        if magic.matches(head):
            return _refine_zip(head) if magic.content_type == _ZIP else magic.content_type
    lead = head.removeprefix(_BOM).lstrip().lower()
    for pattern, content_type in _MARKUP:
        if pattern.match(lead):
            return _xml_dialect(lead) if content_type == "application/xml" else content_type
    if not _is_text(head):
        return OCTET_STREAM
    return "application/json" if lead[:1] in (b"{", b"[") else "text/plain"


def describe_content_type(content_type: str) -> str:
    """A few words for people about a sniffed type: ``"a Windows executable"``."""
    return _DESCRIPTIONS.get(content_type, content_type)


def _refine_zip(head: bytes) -> str:
    # Office writes its manifest first; its folders follow within a few hundred bytes.
    if not head.startswith(_OOXML_FIRST_ENTRIES, _ZIP_NAME_OFFSET):
        return _ZIP
    return next((kind for folder, kind in _OOXML_FOLDERS if folder in head), _ZIP)


def _xml_dialect(lead: bytes) -> str:
    # The root element decides: skip the declaration, comments and doctype before it.
    root = _ROOT_ELEMENT.search(_PROLOG_ITEM.sub(b"", lead))
    return _XML_DIALECTS.get(root.group(1), "application/xml") if root else "application/xml"


def _is_text(head: bytes) -> bool:
    if _BINARY_BYTES.search(head):
        return False
    # A full head may end inside a character; a shorter one is the whole file.
    final = len(head) < SNIFF_SIZE
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=final)
    except UnicodeDecodeError:
        return False
    return True


# Receiving -----------------------------------------------------------------------------


class _ReadOnly(io.RawIOBase):
    """A raw stream defined by ``_read_some``: up to ``size`` bytes, empty at EOF."""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        # Overridden rather than left to readinto: stores ask for 1 MiB and get 64 KiB,
        # and the default would allocate the 1 MiB each time.
        return self.readall() if size < 0 else self._read_some(size)

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._read_some(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _read_some(self, size: int) -> bytes:
        raise NotImplementedError


class _CappedReader(_ReadOnly):
    """``source`` read :data:`READ_SIZE` at a time, refused once past ``cap`` bytes.

    It asks the source for at most one byte beyond the cap, so a refused
    upload is never read further.
    """

    def __init__(self, source: Readable, cap: int, too_large: AttachmentRejected) -> None:
        self._source = source
        self._cap = cap
        self._too_large = too_large
        self._seen = 0

    def _read_some(self, size: int) -> bytes:
        data = self._source.read(min(size, READ_SIZE, self._cap + 1 - self._seen))
        self._seen += len(data)
        if self._seen > self._cap:
            raise self._too_large
        return data


class _Replayed(_ReadOnly):
    """``head`` again, then the rest of ``rest``: the bytes sniffed are not lost."""

    def __init__(self, head: bytes, rest: Readable) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def _read_some(self, size: int) -> bytes:
        if not self._head:
            return self._rest.read(size)
        data = bytes(self._head[:size])
        self._head = self._head[size:]
        return data


def receive(
    blob_store: BlobStore,
    key: str,
    filename: str,
    stream: BinaryIO,
    *,
    limits: AttachmentLimits,
    ticket_bytes_so_far: int,
    ticket_files_so_far: int,
    scanner: Scanner | None,
) -> ReceivedFile:
    """Check one uploaded file against ``limits``, store it under ``key`` and scan it.

    In order, each step refusing with :class:`~supportdesk.AttachmentRejected`
    (whose ``filename`` is the cleaned name) and leaving no blob under ``key``:

    1. A ticket that already has ``max_ticket_files`` files, or no bytes
       left, is refused before anything is read.
    2. The first :data:`SNIFF_SIZE` bytes are read and sniffed; a type not
       in ``allowed_types`` is refused before anything is stored.
    3. The body is streamed to ``blob_store`` (which computes size and
       SHA-256), :data:`READ_SIZE` at a time, with the sniffed type.  The
       moment it passes ``max_file_bytes``, or what is left of
       ``max_ticket_bytes``, it is refused and no more is read.
    4. With a ``scanner``, the stored blob is scanned; a rejection deletes it.
       Pass None when the desk has no scanner, or scans later: then the
       attachment waits in :attr:`ScanStatus.SCANNING` until a worker
       calls :func:`scan_blob`.

    Whatever else fails (the upload stream, the store, the scanner) also
    removes the blob and propagates unchanged.  Memory stays bounded by a
    few chunks whatever the size of the file.

    :param key: a fresh blob key; it is deleted if the file is refused, so
        it must not name a blob that should survive.
    :param filename: the client's name for the file; only cleaned and kept,
        never used to judge the type.
    :param stream: the upload, read from its position; not closed.
    :param ticket_bytes_so_far: the bytes the ticket's files already take.
    :param ticket_files_so_far: how many files the ticket already has.
    :raises ValueError: the key is invalid or a count is negative.
    """
    validate_key(key)
    if ticket_bytes_so_far < 0 or ticket_files_so_far < 0:
        raise ValueError(
            "ticket_bytes_so_far and ticket_files_so_far must not be negative, "
            f"got {ticket_bytes_so_far} and {ticket_files_so_far}"
        )
    name = safe_filename(filename)
    _check_ticket_room(name, limits, ticket_bytes_so_far, ticket_files_so_far)
    capped = _CappedReader(
        stream,
        _byte_cap(limits, ticket_bytes_so_far),
        _size_refusal(name, limits, ticket_bytes_so_far),
    )
    head = read_up_to(capped, SNIFF_SIZE)
    content_type = sniff_content_type(head)
    _check_type(name, content_type, limits)
    try:
        info = blob_store.put(
            key, cast(BinaryIO, _Replayed(head, capped)), content_type=content_type
        )
        if scanner is not None:
            _require_clean(name, scan_blob(blob_store, key, name, content_type, scanner))
    except BaseException:
        # put leaves nothing when it fails, but a refused scan leaves the stored blob.  A
        # failing delete must not hide why the file failed: the orphan sweep gets the blob.
        with contextlib.suppress(StorageError):
            blob_store.delete(key)
        raise
    return ReceivedFile(
        key=key, filename=name, content_type=content_type, size=info.size, sha256=info.sha256
    )


def scan_blob(
    blob_store: BlobStore, key: str, filename: str, content_type: str, scanner: Scanner
) -> ScanVerdict:
    """Run ``scanner`` over the blob under ``key`` and return its verdict.

    For scanning after the upload (the attachment waits in
    :attr:`ScanStatus.SCANNING`); acting on the verdict, such as deleting a
    rejected blob, is the caller's job.

    :raises ~supportdesk.NotFound: no blob under ``key``.
    """
    with blob_store.open(key) as body:
        return scanner.scan(body, filename=filename, content_type=content_type)


def check_ticket_room(
    filename: str,
    limits: AttachmentLimits,
    *,
    ticket_bytes_so_far: int,
    ticket_files_so_far: int,
    size: int,
) -> None:
    """Refuse a stored file of ``size`` bytes that no longer fits its ticket.

    :func:`receive` judged the file against the ticket as it was when the
    upload began; another upload to the same ticket may have committed
    since.  Call this again with the counts read in the transaction that
    records the file.

    :raises ~supportdesk.AttachmentRejected: the ticket has no room for it,
        with the limit it breaks.
    """
    name = safe_filename(filename)
    _check_ticket_room(name, limits, ticket_bytes_so_far, ticket_files_so_far)
    if size > _byte_cap(limits, ticket_bytes_so_far):
        raise _size_refusal(name, limits, ticket_bytes_so_far)


def _check_ticket_room(
    name: str, limits: AttachmentLimits, bytes_so_far: int, files_so_far: int
) -> None:
    if files_so_far >= limits.max_ticket_files:
        raise AttachmentRejected(
            name, f"this ticket already has the {limits.max_ticket_files} files allowed"
        )
    if bytes_so_far >= limits.max_ticket_bytes:
        raise AttachmentRejected(
            name,
            f"this ticket already holds the {_size_text(limits.max_ticket_bytes)} of files allowed",
        )


def _byte_cap(limits: AttachmentLimits, bytes_so_far: int) -> int:
    return min(limits.max_file_bytes, limits.max_ticket_bytes - bytes_so_far)


def _size_refusal(name: str, limits: AttachmentLimits, bytes_so_far: int) -> AttachmentRejected:
    room = limits.max_ticket_bytes - bytes_so_far
    if limits.max_file_bytes <= room:
        reason = (
            f"larger than the {_size_text(limits.max_file_bytes)} per file allowed on this desk"
        )
    else:
        reason = (
            f"larger than the {_size_text(room)} left on this ticket "
            f"({_size_text(limits.max_ticket_bytes)} per ticket)"
        )
    return AttachmentRejected(name, reason)


def _check_type(name: str, content_type: str, limits: AttachmentLimits) -> None:
    if content_type in limits.allowed_types:
        return
    accepted = ", ".join(sorted(limits.allowed_types))
    raise AttachmentRejected(
        name,
        f"it is {describe_content_type(content_type)} ({content_type}); "
        f"this desk accepts {accepted}",
    )


def _require_clean(name: str, verdict: ScanVerdict) -> None:
    if not verdict.clean:
        raise AttachmentRejected(name, verdict.reason or "the malware scan refused it")


def _size_text(size: int) -> str:
    # Whole units read best ("25 MiB"), else one decimal rounded down: "left on this ticket"
    # must not promise more room than there is.
    for unit, factor in (("MiB", MIB), ("KiB", KIB)):
        if size >= factor:
            whole, rest = divmod(size, factor)
            return f"{whole} {unit}" if not rest else f"{whole}.{rest * 10 // factor} {unit}"
    return "1 byte" if size == 1 else f"{size} bytes"
