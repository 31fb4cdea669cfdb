"""The SQL attachments: attachment metadata, the scan queue and the blob keys still in use."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa

from ..._errors import Conflict
from ..._models import Attachment, ScanStatus
from ..protocol import AttachmentUsage
from . import rows
from ._transaction import Repository, by_id
from .schema import REJECTED, SCANNING, attachments

GET_ATTACHMENT = by_id(attachments)
NOT_REJECTED = attachments.c.scan_status != REJECTED
_TICKET_ATTACHMENTS = (
    sa.select(attachments)
    .where(attachments.c.ticket_id == sa.bindparam("ticket_id"))
    .order_by(attachments.c.position)
)
LIST_ATTACHMENTS: dict[tuple[bool, bool], sa.Select[Any]] = {
    # By (include_internal, include_rejected).
    (True, True): _TICKET_ATTACHMENTS,
    (True, False): _TICKET_ATTACHMENTS.where(NOT_REJECTED),
    (False, True): _TICKET_ATTACHMENTS.where(attachments.c.internal == sa.false()),
    (False, False): _TICKET_ATTACHMENTS.where(attachments.c.internal == sa.false(), NOT_REJECTED),
}
ATTACHMENT_USAGE = sa.select(
    sa.func.count().label("files"),
    sa.func.coalesce(sa.func.sum(attachments.c.size), 0).label("size"),
).where(attachments.c.ticket_id == sa.bindparam("ticket_id"), NOT_REJECTED)
# One UPDATE both checks and records: of two workers, the second gets no row.
FINISH_SCAN = (
    attachments.update()
    .where(
        attachments.c.id == sa.bindparam("match_id"),
        attachments.c.scan_status == SCANNING,
    )
    .values(scan_status=sa.bindparam("new_status"), rejection_reason=sa.bindparam("reason"))
    .returning(*attachments.c)
)
ATTACHMENTS_TO_SCAN = (
    sa.select(attachments)
    .where(attachments.c.scan_status == SCANNING)
    .order_by(attachments.c.uploaded_at, attachments.c.position)
    .limit(sa.bindparam("limit", type_=sa.Integer))
)
KNOWN_BLOB_KEYS = sa.select(attachments.c.blob_key).where(
    attachments.c.blob_key.in_(sa.bindparam("keys", expanding=True)), NOT_REJECTED
)
KEYS_PER_QUERY = 900
"""Blob keys looked up per statement: below SQLite's oldest limit of 999 parameters."""


class SqlAttachments(Repository):
    """Attachment metadata in SQL, in the order added (an autoincrement position)."""

    def add(self, attachment: Attachment) -> None:
        row = rows.ATTACHMENTS.row(attachment)
        if not self._tx.add_new(attachments, "id", row):
            raise Conflict(
                "attachment", attachment.id, "an attachment with this id or blob key exists"
            )

    def get(self, attachment_id: str) -> Attachment | None:
        return self._tx.one(rows.ATTACHMENTS, GET_ATTACHMENT, id=attachment_id)

    def list_for_ticket(
        self, ticket_id: str, *, include_internal: bool, include_rejected: bool
    ) -> Sequence[Attachment]:
        statement = LIST_ATTACHMENTS[include_internal, include_rejected]
        return self._tx.all(rows.ATTACHMENTS, statement, ticket_id=ticket_id)

    def count_usage(self, ticket_id: str) -> AttachmentUsage:
        usage = self._tx.execute(ATTACHMENT_USAGE, {"ticket_id": ticket_id}).one()
        return AttachmentUsage(files=int(usage.files), bytes=int(usage.size))

    def mark_scanned(
        self, attachment_id: str, status: ScanStatus, *, reason: str | None = None
    ) -> Attachment | None:
        if status is ScanStatus.SCANNING:
            raise ValueError("mark_scanned records a verdict: clean or rejected, not scanning")
        parameters = {
            "match_id": attachment_id,
            "new_status": status.value,
            "reason": reason if status is ScanStatus.REJECTED else None,
        }
        return self._tx.one(rows.ATTACHMENTS, FINISH_SCAN, **parameters)

    def list_scanning(self, limit: int) -> Sequence[Attachment]:
        return self._tx.all(rows.ATTACHMENTS, ATTACHMENTS_TO_SCAN, limit=limit)

    def find_kept_blob_keys(self, keys: Collection[str]) -> set[str]:
        wanted = sorted(set(keys))
        kept: set[str] = set()
        for start in range(0, len(wanted), KEYS_PER_QUERY):
            chunk = wanted[start : start + KEYS_PER_QUERY]
            kept.update(self._tx.execute(KNOWN_BLOB_KEYS, {"keys": chunk}).scalars())
        return kept
