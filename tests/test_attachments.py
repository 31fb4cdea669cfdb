"""Attachment intake on real blob stores: limits, sniffing, clean names, scans, bounded memory."""

from __future__ import annotations

import hashlib
import io
import re
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

import attrs
import pytest

from supportdesk import AttachmentRejected, StorageError
from supportdesk.attachments import (
    DEFAULT_ALLOWED_TYPES,
    DOCX,
    PPTX,
    READ_SIZE,
    SNIFF_SIZE,
    XLSX,
    AttachmentLimits,
    ReceivedFile,
    ScanStatus,
    ScanVerdict,
    receive,
    scan_blob,
    sniff_content_type,
)
from supportdesk.blobs import BlobStore, FilesystemBlobStore, MemoryBlobStore

KIB = 1024
MIB = 1024 * KIB
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"
BLOCK = bytes(range(256)) * 256
"""64 KiB of filler; binary, so only the head decides the type."""
KEY = "tickets/1/attachments/a1"
SMALL = AttachmentLimits(max_file_bytes=1 * MIB, max_ticket_bytes=2 * MIB, max_ticket_files=3)


class Upload(io.RawIOBase):
    """An upload made chunk by chunk by a generator; ``yielded`` counts the bytes it made."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = memoryview(b"")
        self.yielded = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if not self._pending:
            chunk = next(self._chunks, b"")
            self.yielded += len(chunk)
            self._pending = memoryview(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    @property
    def stream(self) -> BinaryIO:
        """This upload typed as what :func:`receive` takes."""
        return cast(BinaryIO, self)


def chunks(size: int, *, head: bytes = PNG, fail_after: int | None = None) -> Iterator[bytes]:
    """``head`` then :data:`BLOCK` repeated, ``size`` bytes in all; raises at ``fail_after``."""
    yield head
    sent = len(head)
    while sent < size:
        if fail_after is not None and sent >= fail_after:
            raise ConnectionResetError("the client went away")
        piece = BLOCK[: size - sent]
        yield piece
        sent += len(piece)


def upload(size: int, *, head: bytes = PNG, fail_after: int | None = None) -> Upload:
    """An :class:`Upload` of :func:`chunks`."""
    return Upload(chunks(size, head=head, fail_after=fail_after))


def digest_of(size: int) -> str:
    """The SHA-256 of what ``upload(size)`` yields."""
    digest = hashlib.sha256()
    for chunk in chunks(size):
        digest.update(chunk)
    return digest.hexdigest()


def take(
    blob_store: BlobStore,
    body: bytes | BinaryIO,
    filename: str = "file",
    *,
    limits: AttachmentLimits = SMALL,
    bytes_so_far: int = 0,
    files_so_far: int = 0,
    scanner: FakeScanner | None = None,
) -> ReceivedFile:
    """:func:`receive` with this module's defaults."""
    stream = io.BytesIO(body) if isinstance(body, bytes) else body
    return receive(
        blob_store,
        KEY,
        filename,
        stream,
        limits=limits,
        ticket_bytes_so_far=bytes_so_far,
        ticket_files_so_far=files_so_far,
        scanner=scanner,
    )


def stored(blob_store: BlobStore, key: str = KEY) -> bytes:
    """The whole body under ``key`` (small test bodies only)."""
    with blob_store.open(key) as body:
        return body.read()


@attrs.define
class FakeScanner:
    """Refuses bodies holding ``signature``; records what it was shown."""

    signature: bytes = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"
    calls: list[tuple[str, str, str]] = attrs.Factory(list)
    """(filename, content_type, sha256 of the body) per scan."""

    def scan(self, stream: BinaryIO, *, filename: str, content_type: str) -> ScanVerdict:
        body = stream.read()
        self.calls.append((filename, content_type, hashlib.sha256(body).hexdigest()))
        if self.signature in body:
            return ScanVerdict(clean=False, reason="it carries the EICAR test signature")
        return ScanVerdict(clean=True)


class BrokenScanner:
    """A scanner whose service is down."""

    def scan(self, stream: BinaryIO, *, filename: str, content_type: str) -> ScanVerdict:
        raise TimeoutError("the scanning service did not answer")


class UndeletableBlobStore(MemoryBlobStore):
    """A memory store whose deletes fail, as a flaky back end's might."""

    def delete(self, key: str) -> None:
        raise StorageError("delete failed")


@pytest.fixture(params=["memory", "filesystem"])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """Each test runs on a memory store and on a directory."""
    if request.param == "memory":
        return MemoryBlobStore()
    return FilesystemBlobStore(tmp_path / "blobs")


def assert_nothing_stored(blob_store: BlobStore) -> None:
    """No blob listed, and on a directory not even a temporary file."""
    assert list(blob_store.keys()) == []
    if isinstance(blob_store, FilesystemBlobStore) and blob_store.root.exists():
        assert [path for path in blob_store.root.rglob("*") if path.is_file()] == []


# Receiving ---------------------------------------------------------------------------


def test_a_file_is_stored_whole_and_described(blob_store: BlobStore) -> None:
    """Size and digest come from the store; the type from the bytes; the sniffed head is kept."""
    body = PNG + BLOCK * 3
    received = take(blob_store, body, "photo.png")
    assert received == ReceivedFile(
        key=KEY,
        filename="photo.png",
        content_type="image/png",
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
    )
    assert stored(blob_store) == body


class Trickle(io.RawIOBase):
    """A socket-like stream handing out at most 3 bytes per read."""

    def __init__(self, body: bytes) -> None:
        self._body = io.BytesIO(body)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._body.read(min(3, len(buffer)))
        buffer[: len(data)] = data
        return len(data)


def test_short_reads_lose_nothing(blob_store: BlobStore) -> None:
    """The head is gathered across short reads and handed to the store before the rest."""
    body = b"Order 1234 was charged twice.\n" * 400
    received = take(blob_store, cast(BinaryIO, Trickle(body)), "notes.txt")
    assert received.content_type == "text/plain"
    assert stored(blob_store) == body


def test_an_empty_file_is_text(blob_store: BlobStore) -> None:
    """Nothing to sniff is plain text, and is kept."""
    received = take(blob_store, b"", "empty.txt")
    assert (received.content_type, received.size) == ("text/plain", 0)


def test_a_file_at_the_limit_is_accepted(blob_store: BlobStore) -> None:
    """The limit itself is allowed; one byte more is not."""
    received = take(blob_store, upload(1 * MIB).stream)
    assert received.size == 1 * MIB
    assert received.sha256 == digest_of(1 * MIB)


def test_an_oversized_file_is_refused_and_leaves_no_blob(blob_store: BlobStore) -> None:
    """The default 25 MiB per file, named in the reason."""
    limits = AttachmentLimits()
    with pytest.raises(AttachmentRejected) as caught:
        take(blob_store, upload(25 * MIB + 1).stream, "big.png", limits=limits)
    assert caught.value.filename == "big.png"
    assert caught.value.reason == "larger than the 25 MiB per file allowed on this desk"
    assert_nothing_stored(blob_store)


def test_the_ticket_byte_limit_counts_what_the_ticket_has(blob_store: BlobStore) -> None:
    """With 1.5 of 2 MiB taken, a 600 KiB file is refused though a file may take 1 MiB."""
    with pytest.raises(AttachmentRejected) as caught:
        take(blob_store, upload(600 * KIB).stream, bytes_so_far=3 * MIB // 2)
    assert caught.value.reason == "larger than the 512 KiB left on this ticket (2 MiB per ticket)"
    assert_nothing_stored(blob_store)
    assert take(blob_store, upload(512 * KIB).stream, bytes_so_far=3 * MIB // 2).size == 512 * KIB


def test_the_room_left_is_rounded_down(blob_store: BlobStore) -> None:
    """A reason never promises more room than there is."""
    with pytest.raises(AttachmentRejected, match=r"the 1\.9 MiB left"):
        take(
            blob_store,
            upload(2 * MIB).stream,
            limits=attrs.evolve(SMALL, max_file_bytes=2 * MIB),
            bytes_so_far=1,
        )


@pytest.mark.parametrize(("bytes_so_far", "files_so_far"), [(2 * MIB, 0), (0, 3)])
def test_a_full_ticket_refuses_before_reading(
    blob_store: BlobStore, bytes_so_far: int, files_so_far: int
) -> None:
    """No bytes left, or no files left: refused without touching the stream."""
    body = upload(10)
    with pytest.raises(AttachmentRejected, match="this ticket already"):
        take(blob_store, body.stream, bytes_so_far=bytes_so_far, files_so_far=files_so_far)
    assert body.yielded == 0
    assert_nothing_stored(blob_store)


def test_the_file_limit_names_the_count(blob_store: BlobStore) -> None:
    """The third file of three is fine, the fourth is not."""
    take(blob_store, PNG, files_so_far=2)
    with pytest.raises(AttachmentRejected, match="already has the 3 files allowed"):
        take(blob_store, PNG, files_so_far=3)


def test_a_failing_upload_leaves_no_blob(blob_store: BlobStore) -> None:
    """The stream's own error propagates unchanged, and nothing is kept."""
    with pytest.raises(ConnectionResetError, match="went away"):
        take(blob_store, upload(900 * KIB, fail_after=300 * KIB).stream)
    assert_nothing_stored(blob_store)


def test_arguments_are_checked_before_reading(blob_store: BlobStore) -> None:
    """A bad key or a negative count is the caller's bug: ValueError, stream untouched."""
    body = upload(10)
    with pytest.raises(ValueError, match="invalid blob key"):
        receive(
            blob_store,
            "../x",
            "f",
            body.stream,
            limits=SMALL,
            ticket_bytes_so_far=0,
            ticket_files_so_far=0,
            scanner=None,
        )
    with pytest.raises(ValueError, match="must not be negative"):
        take(blob_store, body.stream, files_so_far=-1)
    assert body.yielded == 0


# Types -------------------------------------------------------------------------------


def test_the_bytes_decide_not_the_name(blob_store: BlobStore) -> None:
    """A PNG called .exe is an image; an executable called .png is refused unread and unstored."""
    assert take(blob_store, PNG + BLOCK, "holiday.exe").content_type == "image/png"
    blob_store.delete(KEY)
    disguised = upload(5 * MIB // 10, head=EXE)
    with pytest.raises(AttachmentRejected) as caught:
        take(blob_store, disguised.stream, "holiday.png")
    assert caught.value.reason.startswith(
        "it is a Windows executable (application/vnd.microsoft.portable-executable); "
        "this desk accepts application/json, application/pdf"
    )
    assert disguised.yielded <= SNIFF_SIZE + len(BLOCK)
    assert_nothing_stored(blob_store)


@pytest.mark.parametrize(
    ("head", "described"),
    [
        (b"<!DOCTYPE html><html><script>alert(1)</script>", "a web page (text/html)"),
        (b"\xef\xbb\xbf\n  <HTML><body>", "a web page (text/html)"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "an SVG image"),
        (b'<?xml version="1.0"?>\n<!-- drawn -->\n<svg xmlns="x">', "an SVG image"),
        (b"#!/bin/sh\nrm -rf ~\n", "a script (text/x-shellscript)"),
        (b"\x7fELF\x02\x01\x01", "a Linux executable"),
    ],
)
def test_active_content_is_refused_by_default(
    blob_store: BlobStore, head: bytes, described: str
) -> None:
    """Markup that can run script, and programs, whatever they are called."""
    with pytest.raises(AttachmentRejected, match=re.escape(f"it is {described}")):
        take(blob_store, head, "readme.txt")
    assert_nothing_stored(blob_store)


def test_a_desk_may_allow_svg(blob_store: BlobStore) -> None:
    """allowed_types is the desk's to choose."""
    limits = attrs.evolve(SMALL, allowed_types={"image/svg+xml"})
    assert take(blob_store, b"<svg/>", limits=limits).content_type == "image/svg+xml"


def ooxml(folder: str) -> bytes:
    """A ZIP laid out as Office writes one: manifest, relationships, then its folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml", '<Types xmlns="x"><Default Extension="xml"/></Types>'
        )
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(f"{folder}/main.xml", "<document/>")
    return buffer.getvalue()


def plain_zip() -> bytes:
    """A ZIP of a log file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("logs/app.log", "started\n")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF87a\x01\x00", "image/gif"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "application/octet-stream"),
        (b"%PDF-1.7\n", "application/pdf"),
        (plain_zip(), "application/zip"),
        (b"PK\x05\x06" + bytes(18), "application/zip"),
        (ooxml("word"), DOCX),
        (ooxml("xl"), XLSX),
        (ooxml("ppt"), PPTX),
        (b"\x1f\x8b\x08\x00", "application/gzip"),
        (EXE, "application/vnd.microsoft.portable-executable"),
        (b"\x7fELF\x02\x01\x01", "application/x-elf"),
        (b"\xcf\xfa\xed\xfe\x07\x00", "application/x-mach-binary"),
        (b"\xca\xfe\xba\xbe\x00\x00", "application/x-mach-binary"),
        (b"#!/usr/bin/env python\n", "text/x-shellscript"),
        (b"<!doctype html>", "text/html"),
        (b"\t<a href='x'>click</a>", "text/html"),
        (b"<!-- note -->\n<p>hi", "text/html"),
        (b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml">', "text/html"),
        (b'<svg:svg xmlns:svg="http://www.w3.org/2000/svg">', "image/svg+xml"),
        (b"<!DOCTYPE svg>\n<svg>", "image/svg+xml"),
        (b'<?xml version="1.0"?>\n<invoice/>', "application/xml"),
        (b'{"order": 1234}', "application/json"),
        (b"\n[1, 2]", "application/json"),
        (b"id,name\n1,Ann\n", "text/plain"),
        (b"<13>Jan 1 syslog line\n", "text/plain"),
        ("Grüße, 报告 🎉\n".encode(), "text/plain"),
        ("é".encode() * SNIFF_SIZE, "text/plain"),
        (b"", "text/plain"),
        (b"caf\xe9", "application/octet-stream"),
        (b"text with a \x00 NUL", "application/octet-stream"),
        (b"\xff\xfeh\x00i\x00", "application/octet-stream"),
    ],
    ids=lambda value: None if isinstance(value, bytes) else value,
)
def test_sniffing(head: bytes, expected: str) -> None:
    """Signatures at offsets first, then markup, JSON and text; unknown is octet-stream."""
    assert sniff_content_type(head) == expected


def test_the_default_types_are_safe_ones() -> None:
    """Nothing that runs: no markup, no programs, no unknowns."""
    assert DEFAULT_ALLOWED_TYPES.isdisjoint(
        {
            "text/html",
            "image/svg+xml",
            "application/xml",
            "text/x-shellscript",
            "application/vnd.microsoft.portable-executable",
            "application/octet-stream",
        }
    )


# Names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("LPT1", "_LPT1"),
        ("bad\x00name\n.txt", "badname.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("", "download"),
        ("...", "download"),
    ],
)
def test_names_are_cleaned(blob_store: BlobStore, filename: str, kept: str) -> None:
    """What is kept, and shown later, is the safe name."""
    assert take(blob_store, b"hello", filename).filename == kept


def test_a_long_name_is_shortened_keeping_its_extension(blob_store: BlobStore) -> None:
    """500 characters become at most 255 UTF-8 bytes, still ending in .pdf."""
    name = take(blob_store, b"%PDF-1.7\n", "ü" * 496 + ".pdf").filename
    assert name.endswith(".pdf")
    assert len(name.encode()) <= 255


def test_refusals_name_the_clean_name(blob_store: BlobStore) -> None:
    """A refusal's message may be logged or shown: it carries no newline or path."""
    with pytest.raises(AttachmentRejected) as caught:
        take(blob_store, EXE, "../x\nFAKE LOG LINE.png")
    assert caught.value.filename == "xFAKE LOG LINE.png"


# Scanning ----------------------------------------------------------------------------


def test_a_clean_scan_keeps_the_file(blob_store: BlobStore) -> None:
    """The scanner sees the stored bytes, the clean name and the sniffed type."""
    scanner = FakeScanner()
    received = take(blob_store, b"all good", "a/notes.txt", scanner=scanner)
    assert scanner.calls == [("notes.txt", "text/plain", received.sha256)]
    assert stored(blob_store) == b"all good"


def test_a_scanner_rejection_deletes_the_blob(blob_store: BlobStore) -> None:
    """The scanner's reason becomes the refusal's."""
    with pytest.raises(AttachmentRejected) as caught:
        take(blob_store, b"X5O!P%@AP EICAR-STANDARD-ANTIVIRUS-TEST-FILE!", scanner=FakeScanner())
    assert caught.value.reason == "it carries the EICAR test signature"
    assert_nothing_stored(blob_store)


def test_a_failing_scanner_keeps_nothing(blob_store: BlobStore) -> None:
    """Unscanned is not clean: the scanner's error propagates and the blob goes."""
    with pytest.raises(TimeoutError):
        take(blob_store, b"hello", scanner=cast(FakeScanner, BrokenScanner()))
    assert_nothing_stored(blob_store)


def test_a_failed_cleanup_does_not_hide_the_refusal() -> None:
    """When the delete fails too, the refusal still surfaces; the orphan sweep gets the blob."""
    with pytest.raises(AttachmentRejected, match="EICAR"):
        take(UndeletableBlobStore(), b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE", scanner=FakeScanner())


def test_deferred_scanning(blob_store: BlobStore) -> None:
    """Without a scanner the file is stored at once; a worker scans it later."""
    received = take(blob_store, b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE")
    assert blob_store.exists(KEY)
    verdict = scan_blob(blob_store, KEY, received.filename, received.content_type, FakeScanner())
    assert verdict == ScanVerdict(clean=False, reason="it carries the EICAR test signature")
    assert blob_store.exists(KEY)
    assert [status.value for status in ScanStatus] == ["scanning", "clean", "rejected"]


# Memory ------------------------------------------------------------------------------


def test_a_large_upload_streams_through(tmp_path: Path) -> None:
    """200 MiB, made chunk by chunk, reach a directory with a traced peak under 50 MiB."""
    limits = AttachmentLimits(max_file_bytes=250 * MIB, max_ticket_bytes=250 * MIB)
    store = FilesystemBlobStore(tmp_path)
    body = upload(200 * MIB)
    tracemalloc.start()
    try:
        received = take(store, body.stream, limits=limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received.size == 200 * MIB
    assert received.sha256 == digest_of(200 * MIB)
    assert peak < 50 * MIB, f"peak {peak / MIB:.1f} MiB"


def test_an_oversized_upload_stops_being_read(tmp_path: Path) -> None:
    """Past a 10 MiB limit, at most one more chunk is drawn from a 100 MiB upload."""
    limits = AttachmentLimits(max_file_bytes=10 * MIB)
    store = FilesystemBlobStore(tmp_path)
    body = upload(100 * MIB)
    with pytest.raises(AttachmentRejected, match="larger than the 10 MiB per file"):
        take(store, body.stream, limits=limits)
    assert 10 * MIB < body.yielded <= 10 * MIB + READ_SIZE + len(BLOCK)
    assert_nothing_stored(store)


# Limits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_file_bytes": 0}, "max_file_bytes must be a positive whole number, got 0"),
        ({"max_ticket_bytes": -1}, "max_ticket_bytes must be a positive"),
        ({"max_ticket_files": True}, "max_ticket_files must be a positive"),
        ({"max_file_bytes": 2.5}, "max_file_bytes must be a positive"),
        ({"max_file_bytes": 200 * MIB}, r"max_file_bytes \(209715200\) exceeds max_ticket_bytes"),
        ({"allowed_types": set()}, "allowed_types is empty"),
        ({"allowed_types": {"image/png", "png"}}, r"not a type/subtype: \['png'\]"),
        ({"allowed_types": "image/png"}, "not the str"),
    ],
)
def test_limits_are_checked(options: dict[str, object], message: str) -> None:
    """Each mistake is named with the value that made it."""
    with pytest.raises(ValueError, match=message):
        AttachmentLimits(**options)  # type: ignore[arg-type]


def test_limits_normalise_types() -> None:
    """Types compare in lower case, as they are sniffed."""
    limits = AttachmentLimits(allowed_types=["Image/PNG ", "application/pdf"])
    assert limits.allowed_types == frozenset({"image/png", "application/pdf"})
