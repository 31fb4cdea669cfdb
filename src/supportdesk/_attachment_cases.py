"""Attachment use cases: uploading files to a ticket and downloading them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import BinaryIO

from . import access
from ._desk_base import _Context, _get_desk, _get_request_type
from ._errors import AttachmentRejected, NotFound, PermissionDenied, StorageError
from ._input import LONG_TEXT, check_duration, check_id, check_stream, check_text, check_type
from ._models import (
    ActivityKind,
    Attachment,
    AttachmentLimits,
    AttachmentRule,
    Contact,
    EventKind,
    RequestType,
    ScanStatus,
    Ticket,
    new_id,
)
from ._status_moves import _moved_from, _StatusMoves
from ._views import Upload
from .attachments import ReceivedFile, check_ticket_room, receive
from .blobs import safe_filename
from .storage.protocol import AttachmentUsage, UnitOfWork
from .workflow import Party, StatusCategory

MAX_URL_EXPIRY = timedelta(days=7)
"""The longest an attachment URL may work: the limit of S3's signatures (SigV4)."""

TICKET_BLOBS = "tickets/"
"""The blob key prefix of every attachment: ``tickets/<ticket id>/<attachment id>``."""

ERASED_BLOBS = "erased/"
"""The blob key of an erased person's file, ``erased/<attachment id>``, names no blob."""


class _AttachmentCases(_StatusMoves):
    """Files on tickets: judged, stored, recorded and handed out through the ticket's access."""

    def attach(
        self,
        actor: Contact,
        reference: str,
        filename: str,
        stream: BinaryIO,
        *,
        note: str | None = None,
        internal: bool = False,
    ) -> Attachment:
        """Attach a file to the ticket, on a public update or (agents) an internal note.

        ``note`` is the update's text, which may be left out ("Attached
        screenshot.png" is the host's to show).  The file is judged by the
        request type's :class:`~supportdesk.AttachmentRule` and the desk's
        :class:`~supportdesk.AttachmentLimits` (per file, and the ticket's
        files and bytes so far, rejected ones aside), its type sniffed from
        its bytes and its name cleaned; whatever breaks a rule raises
        :class:`~supportdesk.AttachmentRejected` naming the rule and keeps
        nothing.  With a scanner it is scanned before it is recorded, or,
        with ``scan_later``, recorded ``scanning`` for
        :meth:`scan_pending_attachments`.

        The bytes go to the blob store first, outside the transaction that
        records the attachment, its ``attachment_added`` activity and its
        event; if that transaction fails, the blob is deleted (and should
        the process die in between, :meth:`collect_orphan_blobs` removes it).
        A customer's file counts as their update: it moves the ticket back
        to support as :meth:`share_update` does.  Customers may not attach
        to a closed ticket; they share an update to follow it up.
        """
        check_type("filename", filename, str)
        check_stream("stream", stream)
        if note is not None:
            check_text("note", note, max_length=LONG_TEXT)
        check_type("internal", internal, bool)
        body = (note or "").strip()
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            limits, usage = self._attaching(ctx, filename, internal)
        attachment_id = new_id()
        received = self._receive(
            _blob_key(ctx.ticket.id, attachment_id), filename, stream, limits, usage
        )
        now = self._clock.now()
        with self._blobs_discarded_on_failure([received.key]), self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            limits, usage = self._attaching(ctx, received.filename, internal)
            # Another upload to this ticket may have committed while this one streamed.
            check_ticket_room(
                received.filename,
                limits,
                ticket_bytes_so_far=usage.bytes,
                ticket_files_so_far=usage.files,
                size=received.size,
            )
            attachment = self._record_attachment(
                work,
                ctx.ticket,
                ctx.actor,
                attachment_id,
                received,
                now,
                body=body,
                internal=internal,
            )
            self._announce_attachment(ctx, attachment, body, now)
            return attachment

    def _attaching(
        self, ctx: _Context, filename: str, internal: bool
    ) -> tuple[AttachmentLimits, AttachmentUsage]:
        """Whether the actor may attach ``filename`` here; the limits and what the ticket uses."""
        if internal and ctx.party is not Party.AGENT:
            raise PermissionDenied("attach a file to an internal note", "only agents may")
        workflow = self._workflow(ctx.work, ctx.ticket)
        closed = workflow.category(ctx.ticket.status) is StatusCategory.CLOSED
        if closed and ctx.party is not Party.AGENT:
            raise PermissionDenied(
                "attach a file to a closed ticket", "share an update to follow it up instead"
            )
        ticket = ctx.ticket
        request_type = _get_request_type(ctx.work, ticket.request_type_id)
        _check_rule(request_type, filename)
        desk = _get_desk(ctx.work, ticket.desk_id)
        return desk.attachment_limits, ctx.work.attachments.count_usage(ticket.id)

    def _receive(
        self,
        key: str,
        filename: str,
        stream: BinaryIO,
        limits: AttachmentLimits,
        usage: AttachmentUsage,
    ) -> ReceivedFile:
        """Store one upload under ``key``, scanned now unless the desk scans later."""
        return receive(
            self._blobs,
            key,
            filename,
            stream,
            limits=limits,
            ticket_bytes_so_far=usage.bytes,
            ticket_files_so_far=usage.files,
            scanner=None if self._scan_later else self._scanner,
        )

    def _receive_all(
        self, ticket_id: str, uploads: Sequence[Upload], limits: AttachmentLimits
    ) -> list[tuple[str, ReceivedFile]]:
        """Store the files of a new ticket, each with its attachment id; all of them or none."""
        files: list[tuple[str, ReceivedFile]] = []
        with self._blobs_discarded_on_failure(received.key for _, received in files):
            for filename, stream in uploads:
                usage = AttachmentUsage(files=len(files), bytes=sum(r.size for _, r in files))
                attachment_id = new_id()
                key = _blob_key(ticket_id, attachment_id)
                files.append((attachment_id, self._receive(key, filename, stream, limits, usage)))
        return files

    def _record_attachment(
        self,
        work: UnitOfWork,
        ticket: Ticket,
        uploader: Contact,
        attachment_id: str,
        received: ReceivedFile,
        now: datetime,
        *,
        body: str = "",
        internal: bool = False,
    ) -> Attachment:
        """Write the attachment and the activity entry that carries it."""
        data = {
            "attachment_id": attachment_id,
            "filename": received.filename,
            "content_type": received.content_type,
            "size": str(received.size),
        }
        activity = self._log(
            work,
            ticket,
            ActivityKind.ATTACHMENT_ADDED,
            uploader.id,
            now,
            body=body,
            internal=internal,
            data=data,
        )
        attachment = Attachment(
            id=attachment_id,
            ticket_id=ticket.id,
            activity_id=activity.id,
            filename=received.filename,
            content_type=received.content_type,
            size=received.size,
            sha256=received.sha256,
            blob_key=received.key,
            uploader_id=uploader.id,
            uploaded_at=now,
            internal=internal,
            scan_status=ScanStatus.SCANNING if self._scan_later else ScanStatus.CLEAN,
        )
        work.attachments.add(attachment)
        return attachment

    def _announce_attachment(
        self, ctx: _Context, attachment: Attachment, body: str, now: datetime
    ) -> None:
        """Move the ticket as the update moves it, and write the event.

        A file on a note is announced as the note it is, so that it reaches
        staff only.
        """
        payload = {
            "body": body,
            "attachment_id": attachment.id,
            "filename": attachment.filename,
        }
        if attachment.internal:
            # As a note leaves updated_at alone, so does its file.
            self._emit(ctx.work, ctx.ticket, EventKind.INTERNAL_NOTE, ctx.actor, now, **payload)
            return
        status = ctx.ticket.status
        workflow = self._workflow(ctx.work, ctx.ticket)
        if ctx.party is not Party.AGENT and workflow.can_fire(status, "share_update", ctx.party):
            ticket = self._fire(ctx, "share_update", now, announce=False)
        else:
            ticket = self._touched(ctx, now)
        moved = _moved_from(ctx.ticket, ticket)
        self._emit(ctx.work, ticket, EventKind.ATTACHMENT_ADDED, ctx.actor, now, **payload, **moved)

    @contextlib.contextmanager
    def _blobs_discarded_on_failure(self, keys: Iterable[str]) -> Iterator[None]:
        """Delete the blobs under ``keys`` if the block raises: no metadata will point to them.

        ``keys`` is read only on failure, so a list still being filled works.
        """
        try:
            yield
        except BaseException:
            for key in keys:
                # The original failure matters more; the orphan sweep gets what stays.
                with contextlib.suppress(StorageError):
                    self._blobs.delete(key)
            raise

    def list_attachments(self, actor: Contact, reference: str) -> tuple[Attachment, ...]:
        """The ticket's files in the order added: the Attachments tab.

        Customers see neither files on internal notes nor ``rejected`` ones;
        staff see all, a rejected one with its ``rejection_reason``.
        ``scanning`` ones are listed for everyone but not yet downloaded.
        """
        with self._store.unit_of_work() as work:
            return self._visible_attachments(self._load(work, actor, reference))

    def _visible_attachments(self, ctx: _Context) -> tuple[Attachment, ...]:
        staff = access.is_staff(ctx.actor)
        return tuple(
            ctx.work.attachments.list_for_ticket(
                ctx.ticket.id, include_internal=staff, include_rejected=staff
            )
        )

    def open_attachment(self, actor: Contact, attachment_id: str) -> tuple[Attachment, BinaryIO]:
        """The attachment and a stream of its bytes, which the caller closes.

        An attachment the actor may not see (its ticket is hidden from them,
        or a customer asks for one on an internal note or a rejected one)
        is :class:`~supportdesk.NotFound`, exactly as an unknown id.  One
        still being scanned raises :class:`~supportdesk.PermissionDenied`,
        a rejected one :class:`~supportdesk.AttachmentRejected` with the
        scanner's reason.
        """
        check_id("attachment_id", attachment_id)
        with self._store.unit_of_work() as work:
            attachment = self._downloadable(work, actor, attachment_id)
        return attachment, self._blobs.open(attachment.blob_key)

    def attachment_url(
        self, actor: Contact, attachment_id: str, *, expires_in: timedelta = timedelta(minutes=5)
    ) -> str | None:
        """A short-lived URL that downloads the attachment, or None where the blob store has none.

        Checked as :meth:`open_attachment` checks; the URL makes the browser
        save the file under its clean name (``Content-Disposition:
        attachment``) rather than show it.  Without a URL, stream
        :meth:`open_attachment` instead.

        ``expires_in`` is longer than zero and at most seven days
        (:data:`MAX_URL_EXPIRY`, what S3 signs), whatever the blob store:
        beyond, :class:`~supportdesk.ValidationError` on ``expires_in``.
        """
        check_id("attachment_id", attachment_id)
        check_duration("expires_in", expires_in, most=MAX_URL_EXPIRY)
        with self._store.unit_of_work() as work:
            attachment = self._downloadable(work, actor, attachment_id)
        return self._blobs.presign(
            attachment.blob_key,
            filename=attachment.filename,
            expires_in=expires_in,
            content_type=attachment.content_type,
        )

    def _downloadable(self, work: UnitOfWork, actor: Contact, attachment_id: str) -> Attachment:
        attachment = work.attachments.get(attachment_id)
        if attachment is None or attachment.blob_key.startswith(ERASED_BLOBS):
            raise NotFound("attachment", attachment_id)
        try:
            ctx = self._load(work, actor, attachment.ticket_id)
        except NotFound:
            raise NotFound("attachment", attachment_id) from None
        if attachment not in self._visible_attachments(ctx):
            raise NotFound("attachment", attachment_id)
        if attachment.scan_status is ScanStatus.SCANNING:
            raise PermissionDenied(
                f"download {attachment.filename!r}",
                "it is still being scanned for malware; try again in a minute",
            )
        if attachment.scan_status is ScanStatus.REJECTED:
            raise AttachmentRejected(
                attachment.filename, attachment.rejection_reason or "the malware scan refused it"
            )
        return attachment


def _blob_key(ticket_id: str, attachment_id: str) -> str:
    return f"{TICKET_BLOBS}{ticket_id}/{attachment_id}"


def _check_rule(request_type: RequestType, filename: str) -> None:
    if request_type.attachments is AttachmentRule.NOT_ALLOWED:
        raise AttachmentRejected(
            safe_filename(filename), f"{request_type.name!r} requests take no attachments"
        )
