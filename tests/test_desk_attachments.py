"""Attachments through the desk: rules, limits, sniffing, scans, access, blobs and their sweep."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

import attrs
import pytest

from supportdesk import (
    ActivityKind,
    Attachment,
    AttachmentLimits,
    AttachmentRejected,
    AttachmentRule,
    Conflict,
    Desk,
    EventKind,
    NotFound,
    PermissionDenied,
    RequestType,
    ScanStatus,
    ScanVerdict,
    StorageError,
    Store,
    Submission,
    SupportDesk,
    Ticket,
    TicketList,
    UnitOfWork,
    ValidationError,
    from_data,
    to_data,
)
from supportdesk.blobs import MemoryBlobStore
from supportdesk.storage.protocol import Attachments

from .blobs import conftest as blob_fixtures
from .conftest import Portal

# The S3 fixtures of the blob tests (moto's server, or a real S3), shared rather than copied.
s3_target = blob_fixtures.s3_target
s3_location = blob_fixtures.s3_location

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(200)
EICAR = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"


def png(filename: str = "screenshot.png", body: bytes = PNG) -> tuple[str, BinaryIO]:
    return filename, io.BytesIO(body)


@attrs.define
class FakeScanner:
    """Refuses bodies holding the EICAR signature; counts its scans."""

    scans: int = 0

    def scan(self, stream: BinaryIO, *, filename: str, content_type: str) -> ScanVerdict:
        self.scans += 1
        if EICAR in stream.read():
            return ScanVerdict(clean=False, reason="it carries the EICAR test signature")
        return ScanVerdict(clean=True)


def desk_on(portal: Portal, store: Store, **options: Any) -> SupportDesk:
    """Another desk on the portal's store and clock, with its own blob options."""
    options.setdefault("blob_store", MemoryBlobStore(clock=portal.clock))
    return SupportDesk(store, clock=portal.clock, **options)


def keys(desk: SupportDesk) -> list[str]:
    return list(desk.blob_store.keys())


def downloaded(desk: SupportDesk, actor: Any, attachment: Attachment) -> bytes:
    found, stream = desk.open_attachment(actor, attachment.id)
    assert found == attachment
    with stream:
        return stream.read()


def request_type(portal: Portal, rule: AttachmentRule, **changes: Any) -> RequestType:
    return portal.desk.add_request_type(
        RequestType(desk_id=portal.help_desk.id, name=f"{rule} files", attachments=rule, **changes)
    )


# Attaching ------------------------------------------------------------------------------


def test_a_customer_attaches_a_file_to_a_public_update(portal: Portal) -> None:
    """Metadata, activity, event and view line up; the bytes come back; the ticket moves."""
    desk, alice, agent = portal.desk, portal.alice, portal.agent
    ticket = portal.open()
    desk.ask_customer(agent, ticket.reference, "A screenshot, please?")
    portal.clock.advance(timedelta(minutes=5))

    attachment = desk.attach(alice, ticket.reference, *png(), note="Here it is")

    assert attachment == Attachment(
        id=attachment.id,
        ticket_id=ticket.id,
        activity_id=attachment.activity_id,
        filename="screenshot.png",
        content_type="image/png",
        size=len(PNG),
        sha256=hashlib.sha256(PNG).hexdigest(),
        blob_key=f"tickets/{ticket.id}/{attachment.id}",
        uploader_id=alice.id,
        uploaded_at=portal.clock.now(),
    )
    assert keys(desk) == [attachment.blob_key]
    assert downloaded(desk, alice, attachment) == PNG
    assert downloaded(desk, agent, attachment) == PNG

    view = desk.view_ticket(alice, ticket.reference)
    assert view.attachments == (attachment,)
    assert view.ticket.status == "pending_support"
    entry = view.activities[-2]
    assert (entry.id, entry.kind, entry.body, entry.internal) == (
        attachment.activity_id,
        ActivityKind.ATTACHMENT_ADDED,
        "Here it is",
        False,
    )
    assert entry.data == {
        "attachment_id": attachment.id,
        "filename": "screenshot.png",
        "content_type": "image/png",
        "size": str(len(PNG)),
    }
    event = desk.preview_notifications(lambda d: d.attach(alice, ticket.reference, *png()))[0]
    assert event.kind is EventKind.ATTACHMENT_ADDED
    assert agent.id in {recipient.contact_id for recipient in event.recipients}
    assert desk.list_attachments(agent, ticket.reference) == (attachment,)


def test_an_agent_attaches_a_file_to_an_internal_note(portal: Portal) -> None:
    """Customers never see it, nor learn that it exists; only staff are told."""
    desk, alice, agent = portal.desk, portal.alice, portal.agent
    ticket = portal.open()
    public = desk.attach(agent, ticket.reference, *png("public.png"))
    note = desk.attach(agent, ticket.reference, *png("logs.png"), note="Seen it", internal=True)

    assert note.internal
    assert desk.list_attachments(alice, ticket.reference) == (public,)
    assert desk.list_attachments(agent, ticket.reference) == (public, note)
    assert desk.view_ticket(alice, ticket.reference).attachments == (public,)
    customer_log = desk.view_ticket(alice, ticket.reference).activities
    assert note.activity_id not in {entry.id for entry in customer_log}
    with pytest.raises(NotFound) as hidden:
        desk.open_attachment(alice, note.id)
    with pytest.raises(NotFound) as made_up:
        desk.open_attachment(alice, "no-such-attachment")
    assert (hidden.value.kind, type(hidden.value)) == (made_up.value.kind, type(made_up.value))
    with pytest.raises(NotFound):
        desk.attachment_url(alice, note.id)
    assert downloaded(desk, agent, note) == PNG

    (event,) = desk.preview_notifications(
        lambda d: d.attach(agent, ticket.reference, *png(), internal=True)
    )
    assert event.kind is EventKind.INTERNAL_NOTE
    assert all(recipient.role != "customer" for recipient in event.recipients)
    with pytest.raises(PermissionDenied, match="only agents"):
        desk.attach(alice, ticket.reference, *png(), internal=True)


def test_a_customer_cannot_open_a_file_on_a_ticket_they_cannot_see(portal: Portal) -> None:
    """Another organisation's customer, an agent of another desk: NotFound as for no file."""
    desk = portal.desk
    ticket = portal.open()
    attachment = desk.attach(portal.alice, ticket.reference, *png())
    for outsider in (portal.carol, portal.loner, portal.outsider_agent):
        with pytest.raises(NotFound, match="attachment") as refused:
            desk.open_attachment(outsider, attachment.id)
        assert refused.value.key == attachment.id
        with pytest.raises(NotFound, match="attachment"):
            desk.attachment_url(outsider, attachment.id)
        with pytest.raises(NotFound):
            desk.attach(outsider, ticket.reference, *png())
    assert downloaded(desk, portal.bob, attachment) == PNG
    assert keys(desk) == [attachment.blob_key]


def test_customers_cannot_attach_to_a_closed_ticket(portal: Portal) -> None:
    desk, alice = portal.desk, portal.alice
    ticket = portal.open()
    desk.close(alice, ticket.reference)
    with pytest.raises(PermissionDenied, match="follow it up"):
        desk.attach(alice, ticket.reference, *png())
    assert keys(desk) == []
    assert desk.attach(portal.agent, ticket.reference, *png()).ticket_id == ticket.id


# Rules and limits ----------------------------------------------------------------------


def test_a_request_type_that_takes_no_attachments(portal: Portal) -> None:
    desk, alice = portal.desk, portal.alice
    closed_form = request_type(portal, AttachmentRule.NOT_ALLOWED)
    submission = Submission(summary="No files here")
    with pytest.raises(AttachmentRejected, match="take no attachments") as refused:
        desk.open_ticket(alice, closed_form.id, submission, attachments=[png("../a.png")])
    assert refused.value.filename == "a.png"
    assert desk.count_tickets(alice, TicketList.CREATED_BY_ME) == 0
    ticket = desk.open_ticket(alice, closed_form.id, submission)
    with pytest.raises(AttachmentRejected, match="take no attachments"):
        desk.attach(alice, ticket.reference, *png())
    assert keys(desk) == []


def test_a_request_type_that_requires_an_attachment(portal: Portal) -> None:
    desk, alice = portal.desk, portal.alice
    form = request_type(portal, AttachmentRule.REQUIRED)
    submission = Submission(summary="Batch file rejected")
    with pytest.raises(ValidationError) as missing:
        desk.open_ticket(alice, form.id, submission)
    assert "attachments" in missing.value.errors

    ticket = desk.open_ticket(
        alice, form.id, submission, attachments=[png("one.png"), ("two.txt", io.BytesIO(b"ok"))]
    )

    files = desk.list_attachments(alice, ticket.reference)
    assert [(a.filename, a.content_type) for a in files] == [
        ("one.png", "image/png"),
        ("two.txt", "text/plain"),
    ]
    assert sorted(keys(desk)) == sorted(a.blob_key for a in files)
    log = desk.view_ticket(alice, ticket.reference).activities
    assert [entry.kind for entry in log] == [
        ActivityKind.CREATED,
        ActivityKind.ATTACHMENT_ADDED,
        ActivityKind.ATTACHMENT_ADDED,
    ]
    assert [a.activity_id for a in files] == [entry.id for entry in log[1:]]


def test_a_bad_form_stores_no_file(portal: Portal) -> None:
    """The form is judged before any byte is stored."""
    desk = portal.desk
    with pytest.raises(ValidationError, match="description"):
        desk.open_ticket(
            portal.alice, portal.general.id, Submission(summary="S"), attachments=[png()]
        )
    assert keys(desk) == []


@pytest.fixture
def small(portal: Portal) -> RequestType:
    """A request type on a desk taking 1 KiB files, 2.5 KiB and 3 files per ticket."""
    limits = AttachmentLimits(max_file_bytes=1024, max_ticket_bytes=2560, max_ticket_files=3)
    small_desk = portal.desk.add_desk(Desk(key="SML", name="Small", attachment_limits=limits))
    return portal.desk.add_request_type(RequestType(desk_id=small_desk.id, name="Upload"))


def open_small(portal: Portal, small: RequestType, *uploads: tuple[str, BinaryIO]) -> Ticket:
    return portal.desk.open_ticket(
        portal.alice, small.id, Submission(summary="Files"), attachments=list(uploads)
    )


def test_an_oversized_file_is_refused_and_leaves_no_blob(
    portal: Portal, small: RequestType
) -> None:
    desk = portal.desk
    big = png("big.png", PNG + bytes(1024))
    with pytest.raises(AttachmentRejected, match="1 KiB per file") as refused:
        open_small(portal, small, png("fine.png", PNG[:1000]), big)
    assert refused.value.filename == "big.png"
    assert keys(desk) == []
    ticket = open_small(portal, small)
    with pytest.raises(AttachmentRejected, match="1 KiB per file"):
        desk.attach(portal.alice, ticket.reference, *png("big.png", PNG + bytes(1024)))
    assert keys(desk) == []


def test_a_ticket_holds_only_so_many_files(portal: Portal, small: RequestType) -> None:
    desk, alice = portal.desk, portal.alice
    ticket = open_small(portal, small, png("1.png", PNG[:500]), png("2.png", PNG[:500]))
    desk.attach(alice, ticket.reference, *png("3.png", PNG[:500]))
    kept = keys(desk)
    with pytest.raises(AttachmentRejected, match="already has the 3 files allowed"):
        desk.attach(portal.admin, ticket.reference, *png("4.png", PNG[:10]), internal=True)
    assert keys(desk) == kept
    assert len(desk.list_attachments(alice, ticket.reference)) == 3


def test_a_ticket_holds_only_so_many_bytes(portal: Portal, small: RequestType) -> None:
    desk, alice = portal.desk, portal.alice
    ticket = open_small(portal, small, png("1.png", PNG[:1024]), png("2.png", PNG[:1024]))
    with pytest.raises(AttachmentRejected, match=r"larger than the 512 bytes left on this ticket"):
        desk.attach(alice, ticket.reference, *png("3.png", PNG[:513]))
    assert len(keys(desk)) == 2
    desk.attach(alice, ticket.reference, *png("3.png", PNG[:512]))
    assert len(keys(desk)) == 3


def test_the_room_is_checked_again_when_the_file_is_recorded(
    portal: Portal, small: RequestType, store: Store
) -> None:
    """A file that fit when its upload began, but not once a concurrent one committed."""
    desk, alice = portal.desk, portal.alice
    ticket = open_small(portal, small, png("1.png", PNG[:500]), png("2.png", PNG[:500]))

    class RacingUpload(io.BytesIO):
        def read(self, size: int | None = -1, /) -> bytes:
            if not racer_done:
                racer_done.append(desk.attach(alice, ticket.reference, *png("racer.png", PNG[:9])))
            return super().read(size)

    racer_done: list[Attachment] = []
    with pytest.raises(AttachmentRejected, match="3 files"):
        desk.attach(alice, ticket.reference, "slow.png", RacingUpload(PNG[:500]))
    assert len(desk.list_attachments(alice, ticket.reference)) == 3
    assert len(keys(desk)) == 3


# Sniffing and names --------------------------------------------------------------------


def test_the_type_comes_from_the_bytes_never_the_name(portal: Portal) -> None:
    desk, alice = portal.desk, portal.alice
    ticket = portal.open()
    renamed = desk.attach(alice, ticket.reference, *png("photo.exe"))
    assert (renamed.filename, renamed.content_type) == ("photo.exe", "image/png")
    with pytest.raises(AttachmentRejected, match="a Windows executable") as refused:
        desk.attach(alice, ticket.reference, "invoice.png", io.BytesIO(EXE))
    assert refused.value.filename == "invoice.png"
    assert keys(desk) == [renamed.blob_key]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\shot.png", "shot.png"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("NUL\nreport.png", "NULreport.png"),
        ("evil\u202egnp.exe", "evilgnp.exe"),
        ("", "download"),
        ("x" * 500 + ".png", "x" * 251 + ".png"),
    ],
)
def test_filenames_are_made_safe(portal: Portal, given: str, kept: str) -> None:
    desk = portal.desk
    ticket = portal.open()
    attachment = desk.attach(portal.alice, ticket.reference, given, io.BytesIO(PNG))
    assert attachment.filename == kept
    assert desk.list_attachments(portal.agent, ticket.reference)[0].filename == kept
    assert "/" not in attachment.blob_key.removeprefix(f"tickets/{ticket.id}/")


# Scanning ------------------------------------------------------------------------------


def test_a_scanner_refuses_a_file_during_the_upload(portal: Portal, store: Store) -> None:
    scanner = FakeScanner()
    desk = desk_on(portal, store, scanner=scanner)
    ticket = portal.open()
    with pytest.raises(AttachmentRejected, match="EICAR"):
        desk.attach(portal.alice, ticket.reference, "eicar.txt", io.BytesIO(EICAR))
    assert keys(desk) == []
    assert desk.list_attachments(portal.agent, ticket.reference) == ()
    clean = desk.attach(portal.alice, ticket.reference, *png())
    assert clean.scan_status is ScanStatus.CLEAN
    assert scanner.scans == 2
    assert downloaded(desk, portal.alice, clean) == PNG


def test_scanning_later_quarantines_until_the_verdict(portal: Portal, store: Store) -> None:
    scanner = FakeScanner()
    desk = desk_on(portal, store, scanner=scanner, scan_later=True)
    alice, agent = portal.alice, portal.agent
    ticket = portal.open()
    good = desk.attach(alice, ticket.reference, *png())
    bad = desk.attach(alice, ticket.reference, "eicar.txt", io.BytesIO(EICAR))
    assert scanner.scans == 0
    assert {good.scan_status, bad.scan_status} == {ScanStatus.SCANNING}
    assert desk.list_attachments(alice, ticket.reference) == (good, bad)
    for attachment in (good, bad):
        with pytest.raises(PermissionDenied, match="still being scanned"):
            desk.open_attachment(alice, attachment.id)
        with pytest.raises(PermissionDenied, match="still being scanned"):
            desk.attachment_url(agent, attachment.id)

    report = desk.scan_pending_attachments()

    assert (report.clean, report.rejected, report.failed) == (1, 1, 0)
    good, bad = desk.list_attachments(agent, ticket.reference)
    assert good.scan_status is ScanStatus.CLEAN
    assert (bad.scan_status, bad.rejection_reason) == (
        ScanStatus.REJECTED,
        "it carries the EICAR test signature",
    )
    assert downloaded(desk, alice, good) == PNG
    assert keys(desk) == [good.blob_key]
    with pytest.raises(AttachmentRejected, match="EICAR"):
        desk.open_attachment(agent, bad.id)
    with pytest.raises(NotFound):
        desk.open_attachment(alice, bad.id)
    assert desk.list_attachments(alice, ticket.reference) == (good,)
    assert desk.scan_pending_attachments() == type(report)()
    assert scanner.scans == 2
    # The log still tells a file was added, but names to customers only the files they see.
    for reader, named in ((alice, [good.id, None]), (agent, [good.id, bad.id])):
        log = desk.view_ticket(reader, ticket.reference).activities
        added = [e for e in log if e.kind is ActivityKind.ATTACHMENT_ADDED]
        assert [e.data.get("attachment_id") for e in added] == named


def test_a_refused_file_is_told_to_its_uploader_only_while_they_see_the_ticket(
    portal: Portal, store: Store
) -> None:
    desk = desk_on(portal, store, scanner=FakeScanner(), scan_later=True)
    ticket = portal.open()
    desk.add_collaborator(portal.alice, ticket.reference, portal.carol.email)
    desk.attach(portal.alice, ticket.reference, "alice.txt", io.BytesIO(EICAR))
    desk.attach(portal.carol, ticket.reference, "carol.txt", io.BytesIO(EICAR))
    desk.remove_collaborator(portal.alice, ticket.reference, portal.carol.id)

    assert desk.scan_pending_attachments().rejected == 2

    with store.unit_of_work() as work:
        told = {
            event.payload["filename"]: [r.email for r in event.recipients]
            for event in work.outbox.list_events(ticket.id)
            if event.kind is EventKind.ATTACHMENT_REJECTED
        }
    assert told == {"alice.txt": [portal.alice.email], "carol.txt": []}
    assert EventKind.ATTACHMENT_REJECTED not in {
        entry.kind for entry in desk.notifications(portal.carol).notifications
    }


def test_a_failing_scan_waits_for_the_next_run(portal: Portal, store: Store) -> None:
    class DownScanner:
        def scan(self, stream: BinaryIO, *, filename: str, content_type: str) -> ScanVerdict:
            raise TimeoutError("the scanning service did not answer")

    blobs = MemoryBlobStore(clock=portal.clock)
    later = desk_on(portal, store, blob_store=blobs, scanner=DownScanner(), scan_later=True)
    ticket = portal.open()
    attachment = later.attach(portal.alice, ticket.reference, *png())
    assert later.scan_pending_attachments().failed == 1
    working = desk_on(portal, store, blob_store=blobs, scanner=FakeScanner(), scan_later=True)
    assert working.scan_pending_attachments().clean == 1
    assert (
        downloaded(working, portal.alice, attrs.evolve(attachment, scan_status=ScanStatus.CLEAN))
        == PNG
    )


def test_scan_later_needs_a_scanner(store: Store) -> None:
    with pytest.raises(ValueError, match="scanner"):
        SupportDesk(store, scan_later=True)


# Failures and the orphan sweep ---------------------------------------------------------


class CommitFails:
    """A store whose units of work fail at commit once they recorded an attachment."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        with self._store.unit_of_work() as work:
            recording = _Recording(work)
            yield recording
            if recording.added:
                raise Conflict("attachment", "new", "simulated failure at commit")

    def close(self) -> None:
        """The wrapped store is the fixture's to close."""


class _Recording:
    def __init__(self, work: UnitOfWork) -> None:
        self._work = work
        self.attachments = _RecordingAttachments(work.attachments)

    @property
    def added(self) -> bool:
        return self.attachments.added

    def __getattr__(self, name: str) -> Any:
        return getattr(self._work, name)


class _RecordingAttachments:
    def __init__(self, attachments: Attachments) -> None:
        self._attachments = attachments
        self.added = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._attachments, name)

    def add(self, attachment: Attachment) -> None:
        self.added = True
        self._attachments.add(attachment)


def test_a_failed_transaction_deletes_its_blob(portal: Portal, store: Store) -> None:
    failing = SupportDesk(CommitFails(store), clock=portal.clock)
    ticket = portal.open()
    before = portal.desk.view_ticket(portal.agent, ticket.reference)
    with pytest.raises(Conflict, match="simulated"):
        failing.attach(portal.alice, ticket.reference, *png())
    with pytest.raises(Conflict, match="simulated"):
        failing.open_ticket(
            portal.alice,
            portal.general.id,
            Submission(summary="S", description="D"),
            attachments=[png("a.png"), png("b.png")],
        )
    assert keys(failing) == []
    assert portal.desk.view_ticket(portal.agent, ticket.reference) == before
    assert portal.desk.count_tickets(portal.admin, TicketList.CREATED_BY_ME) == 0


def test_orphan_blobs_are_collected_after_the_grace_period(portal: Portal) -> None:
    desk, clock = portal.desk, portal.clock
    blobs = desk.blob_store
    ticket = portal.open()
    blobs.put("tickets/crashed/old", io.BytesIO(b"left by a crash"))
    kept = desk.attach(portal.alice, ticket.reference, *png())
    clock.advance(timedelta(hours=2))
    blobs.put("tickets/crashed/young", io.BytesIO(b"still committing"))
    blobs.put("elsewhere/old", io.BytesIO(b"not an attachment"))
    clock.advance(timedelta(minutes=30))

    assert desk.collect_orphan_blobs(timedelta(hours=1)) == 1

    assert sorted(blobs.keys()) == sorted(["elsewhere/old", kept.blob_key, "tickets/crashed/young"])
    clock.advance(timedelta(hours=1))
    assert desk.collect_orphan_blobs(timedelta(hours=1)) == 1
    assert desk.collect_orphan_blobs(timedelta(0)) == 0
    assert sorted(blobs.keys()) == sorted(["elsewhere/old", kept.blob_key])
    assert downloaded(desk, portal.alice, kept) == PNG
    with pytest.raises(ValidationError, match="negative"):
        desk.collect_orphan_blobs(timedelta(seconds=-1))


def test_the_sweep_takes_the_blob_of_a_rejected_file(portal: Portal, store: Store) -> None:
    """Deleting a rejected file's bytes may fail; the sweep finishes the job."""

    class StickyBlobs(MemoryBlobStore):
        sweeping = False

        def delete(self, key: str) -> None:
            if not self.sweeping:
                raise StorageError("delete failed")
            super().delete(key)

    blobs = StickyBlobs(clock=portal.clock)
    desk = desk_on(portal, store, blob_store=blobs, scanner=FakeScanner(), scan_later=True)
    ticket = portal.open()
    bad = desk.attach(portal.alice, ticket.reference, "eicar.txt", io.BytesIO(EICAR))
    assert desk.scan_pending_attachments().rejected == 1
    assert list(blobs.keys()) == [bad.blob_key]
    blobs.sweeping = True
    portal.clock.advance(timedelta(days=1))
    assert desk.collect_orphan_blobs(timedelta(hours=1)) == 1
    assert list(blobs.keys()) == []


def test_a_preview_stores_no_blob(portal: Portal) -> None:
    ticket = portal.open()
    events = portal.desk.preview_notifications(
        lambda d: d.attach(portal.alice, ticket.reference, *png())
    )
    assert [event.kind for event in events] == [EventKind.ATTACHMENT_ADDED]
    assert keys(portal.desk) == []
    assert portal.desk.list_attachments(portal.alice, ticket.reference) == ()


# Models and S3 -------------------------------------------------------------------------


def test_attachment_models_round_trip(portal: Portal) -> None:
    ticket = portal.open()
    attachment = portal.desk.attach(portal.alice, ticket.reference, *png())
    rejected = attrs.evolve(attachment, scan_status=ScanStatus.REJECTED, rejection_reason="r")
    desk = Desk(key="LIM", name="L", attachment_limits=AttachmentLimits(allowed_types={"A/B"}))
    for model in (attachment, rejected, desk):
        assert from_data(to_data(model), type(model)) == model


def test_attachment_url_downloads_the_file_from_s3(
    portal: Portal, store: Store, request: pytest.FixtureRequest
) -> None:
    s3 = request.getfixturevalue("s3_location")
    from supportdesk.blobs import S3BlobStore
    from supportdesk.testing.blob_contract import assert_attachment, download

    blobs = S3BlobStore(s3.bucket, prefix=s3.prefix, client=s3.client)
    desk = desk_on(portal, store, blob_store=blobs)
    ticket = portal.open()
    attachment = desk.attach(portal.alice, ticket.reference, *png("../Résumé shot.png"))

    url = desk.attachment_url(portal.bob, attachment.id, expires_in=timedelta(minutes=1))

    assert url is not None
    body, headers = download(url)
    assert body == PNG
    assert headers["Content-Type"] == "image/png"
    assert_attachment(headers["Content-Disposition"], "Résumé shot.png")
    assert portal.desk.attachment_url(portal.alice, attachment.id) is None
    with pytest.raises(NotFound):
        desk.attachment_url(portal.carol, attachment.id)


def test_an_attachment_url_expiry_is_checked_alike_on_every_blob_store(
    portal: Portal, store: Store, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Issue 10, defect 11: an ``expires_in`` past 7 days, or not past 0, is refused by the desk.

    Memory and files have no URLs and S3 signs at most 7 days: all three
    refuse alike, with a ValidationError on ``expires_in`` (a TypeError for
    what is no timedelta), never S3's bare ValueError.
    """
    s3 = request.getfixturevalue("s3_location")
    from supportdesk.blobs import FilesystemBlobStore, S3BlobStore

    ticket = portal.open()
    for blobs in (
        MemoryBlobStore(clock=portal.clock),
        FilesystemBlobStore(tmp_path / "blobs"),
        S3BlobStore(s3.bucket, prefix=s3.prefix, client=s3.client),
    ):
        desk = desk_on(portal, store, blob_store=blobs)
        attachment = desk.attach(portal.alice, ticket.reference, *png())
        for expires_in in (timedelta(days=30), timedelta(days=7, seconds=1), timedelta(0)):
            with pytest.raises(ValidationError) as caught:
                desk.attachment_url(portal.alice, attachment.id, expires_in=expires_in)
            assert list(caught.value.errors) == ["expires_in"]
        with pytest.raises(TypeError, match="expires_in"):
            desk.attachment_url(portal.alice, attachment.id, expires_in=300)  # type: ignore[arg-type]
        desk.attachment_url(portal.alice, attachment.id, expires_in=timedelta(days=7))
