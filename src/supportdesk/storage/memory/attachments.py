"""The memory store's attachments: metadata in the order added, indexed by blob key."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import attrs

from ..._errors import Conflict
from ..._models import Attachment, ScanStatus
from ..protocol import AttachmentUsage
from ._changes import Area


class AttachmentTables:
    """Attachments by id, and which attachment has each blob."""

    def __init__(self) -> None:
        self.attachments: dict[str, Attachment] = {}
        """Attachment id -> attachment, in the order added."""
        self.ids_by_blob_key: dict[str, str] = {}


class MemoryAttachments(Area[AttachmentTables]):
    """The attachments area of a :class:`~.store.MemoryUnitOfWork`."""

    def add(self, attachment: Attachment) -> None:
        if attachment.id in self._tables.attachments:
            raise Conflict("attachment", attachment.id, "an attachment with this id exists")
        if attachment.blob_key in self._tables.ids_by_blob_key:
            raise Conflict("attachment", attachment.blob_key, "another attachment has this blob")
        self._changes.set(self._tables.attachments, attachment.id, attachment)
        self._changes.set(self._tables.ids_by_blob_key, attachment.blob_key, attachment.id)

    def get(self, attachment_id: str) -> Attachment | None:
        return self._tables.attachments.get(attachment_id)

    def list_for_ticket(
        self, ticket_id: str, *, include_internal: bool, include_rejected: bool
    ) -> Sequence[Attachment]:
        return [
            attachment
            for attachment in self._tables.attachments.values()
            if attachment.ticket_id == ticket_id
            and (include_internal or not attachment.internal)
            and (include_rejected or attachment.scan_status is not ScanStatus.REJECTED)
        ]

    def count_usage(self, ticket_id: str) -> AttachmentUsage:
        kept = self.list_for_ticket(ticket_id, include_internal=True, include_rejected=False)
        return AttachmentUsage(files=len(kept), bytes=sum(a.size for a in kept))

    def mark_scanned(
        self, attachment_id: str, status: ScanStatus, *, reason: str | None = None
    ) -> Attachment | None:
        if status is ScanStatus.SCANNING:
            raise ValueError("mark_scanned records a verdict: clean or rejected, not scanning")
        stored = self._tables.attachments.get(attachment_id)
        if stored is None or stored.scan_status is not ScanStatus.SCANNING:
            return None
        kept_reason = reason if status is ScanStatus.REJECTED else None
        finished = attrs.evolve(stored, scan_status=status, rejection_reason=kept_reason)
        self._changes.set(self._tables.attachments, attachment_id, finished)
        return finished

    def list_scanning(self, limit: int) -> Sequence[Attachment]:
        waiting = [
            attachment
            for attachment in self._tables.attachments.values()
            if attachment.scan_status is ScanStatus.SCANNING
        ]
        # sorted() is stable: equal upload times keep the order added.
        return sorted(waiting, key=lambda attachment: attachment.uploaded_at)[:limit]

    def find_kept_blob_keys(self, keys: Collection[str]) -> set[str]:
        by_key = self._tables.ids_by_blob_key
        return {
            key
            for key in keys
            if key in by_key
            and self._tables.attachments[by_key[key]].scan_status is not ScanStatus.REJECTED
        }
