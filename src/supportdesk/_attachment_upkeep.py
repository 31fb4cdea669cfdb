"""Attachment upkeep for workers: the deferred malware scan and the orphan blob sweep."""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from . import notifications
from ._attachment_cases import TICKET_BLOBS
from ._desk_base import _DeskBase, _found
from ._errors import NotFound, StorageError, ValidationError
from ._input import check_type
from ._models import Attachment, EventKind, ScanStatus
from ._views import ScanReport
from .attachments import Scanner, ScanVerdict, scan_blob
from .storage.protocol import UnitOfWork

_SWEEP_BATCH = 500

# The facade's logger name, which hosts may already filter on.
_logger = logging.getLogger("supportdesk.desk")


_LONGEST_GRACE = timedelta(days=36_525)
"""A grace period of a century: any longer, and "now" minus it is no date."""


class _AttachmentUpkeep(_DeskBase):
    """Scanning attachments stored ``scanning``, and deleting blobs no attachment needs."""

    def scan_pending_attachments(self, limit: int = 100) -> ScanReport:
        """Scan up to ``limit`` attachments waiting in ``scanning``, oldest first (a worker's job).

        Each verdict is recorded in its own transaction: ``clean`` ones may
        be downloaded from then on; ``rejected`` ones get the scanner's
        reason, lose their bytes, and their uploader an
        ``attachment_rejected`` event.  A file whose bytes are gone is
        rejected.  A scan that raises leaves its attachment ``scanning`` for
        the next call.  Safe to run from several workers: the first verdict
        on a file counts.  Does nothing on a desk without a scanner.
        """
        check_type("limit", limit, int)
        if limit < 1:
            raise ValidationError({"limit": f"scan at least 1 attachment, not {limit}"})
        if self._scanner is None:
            return ScanReport()
        with self._store.unit_of_work() as work:
            waiting = work.attachments.list_scanning(limit)
        counts = {ScanStatus.CLEAN: 0, ScanStatus.REJECTED: 0}
        failed = 0
        for attachment in waiting:
            try:
                verdict = self._verdict(self._scanner, attachment)
            except Exception:
                _logger.warning("scanning attachment %s failed", attachment.id, exc_info=True)
                failed += 1
                continue
            finished = self._finish_scan(attachment, verdict)
            if finished is not None:
                counts[finished] += 1
        return ScanReport(
            clean=counts[ScanStatus.CLEAN], rejected=counts[ScanStatus.REJECTED], failed=failed
        )

    def _verdict(self, scanner: Scanner, attachment: Attachment) -> ScanVerdict:
        try:
            return scan_blob(
                self._blobs,
                attachment.blob_key,
                attachment.filename,
                attachment.content_type,
                scanner,
            )
        except NotFound:
            return ScanVerdict(clean=False, reason="its bytes were lost before the scan")

    def _finish_scan(self, attachment: Attachment, verdict: ScanVerdict) -> ScanStatus | None:
        """Record ``verdict``; None when another worker recorded one first."""
        status = ScanStatus.CLEAN if verdict.clean else ScanStatus.REJECTED
        reason = verdict.reason or "the malware scan refused it"
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            finished = work.attachments.mark_scanned(attachment.id, status, reason=reason)
            if finished is None:
                return None
            if status is ScanStatus.REJECTED:
                self._tell_uploader(work, finished, now)
        if status is ScanStatus.REJECTED:
            with contextlib.suppress(StorageError):
                self._blobs.delete(attachment.blob_key)
        return status

    def _tell_uploader(self, work: UnitOfWork, attachment: Attachment, now: datetime) -> None:
        """Tell the uploader of a refused file, if they still see its ticket (and its note)."""
        ticket = _found(work.tickets.get(attachment.ticket_id), "ticket", attachment.ticket_id)
        uploader = work.directory.get_contact(attachment.uploader_id)
        kind = EventKind.ATTACHMENT_REJECTED
        sharing = [c.contact_id for c in work.participants.list_collaborators(ticket.id)]
        hears = uploader is not None and notifications.may_hear(
            uploader, kind, ticket, sharing, internal=attachment.internal
        )
        payload = {
            "reference": ticket.reference,
            "summary": ticket.summary,
            "attachment_id": attachment.id,
            "filename": attachment.filename,
            "reason": attachment.rejection_reason or "",
        }
        to = [uploader] if uploader is not None and hears else []
        self._emit_to(work, kind, None, now, to, payload, ticket_id=ticket.id)

    def collect_orphan_blobs(self, older_than: timedelta) -> int:
        """Delete attachment blobs no attachment needs, stored more than ``older_than`` ago.

        Such blobs are left when a process dies between storing a file and
        committing its metadata, or when deleting a refused file failed.
        The grace period keeps blobs whose upload is still being committed:
        choose it well above the longest upload and transaction (an hour,
        say).  Blobs of ``rejected`` attachments count as unneeded.  Returns
        how many blobs were deleted; run it from cron or a worker.
        """
        check_type("older_than", older_than, timedelta)
        if older_than < timedelta(0):
            raise ValidationError(
                {"older_than": f"a grace period cannot be negative: {older_than}"}
            )
        if older_than > _LONGEST_GRACE:
            raise ValidationError(
                {"older_than": f"a grace period is at most 100 years, not {older_than}"}
            )
        cutoff = self._clock.now() - older_than
        keys = self._blobs.keys(TICKET_BLOBS)
        removed = 0
        while batch := list(itertools.islice(keys, _SWEEP_BATCH)):
            removed += self._collect(batch, cutoff)
        return removed

    def _collect(self, keys: Sequence[str], cutoff: datetime) -> int:
        with self._store.unit_of_work() as work:
            known = work.attachments.find_kept_blob_keys(keys)
        old = [key for key in keys if key not in known and self._stored_before(key, cutoff)]
        if not old:
            return 0
        # Asked again: metadata may have committed while the blobs were dated.
        with self._store.unit_of_work() as work:
            known = work.attachments.find_kept_blob_keys(old)
        orphans = [key for key in old if key not in known]
        for key in orphans:
            self._blobs.delete(key)
        return len(orphans)

    def _stored_before(self, key: str, cutoff: datetime) -> bool:
        try:
            return self._blobs.modified_at(key) < cutoff
        except NotFound:
            return False
