"""The attachments area: attachment metadata, its scan verdicts and the blobs it keeps alive."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

import attrs

from ..._models import Attachment, ScanStatus


@attrs.frozen(kw_only=True)
class AttachmentUsage:
    """How much of its attachment limits a ticket uses: its files not ``rejected``."""

    files: int = 0
    bytes: int = 0
    """The sum of their sizes."""


class Attachments(Protocol):
    """Attachment metadata; the bytes are in a :class:`~supportdesk.blobs.BlobStore`.

    The store keeps the order attachments were added in (SQL: an
    autoincrement position column); "in the order added" below means that
    order.  Access is the caller's job.
    """

    def add(self, attachment: Attachment) -> None:
        """Store a new attachment's metadata.

        Raises ``Conflict`` when its ``id`` or its ``blob_key`` is taken: two
        attachments never share a blob.
        """
        ...

    def get(self, attachment_id: str) -> Attachment | None:
        """The attachment with that id."""
        ...

    def list_for_ticket(
        self, ticket_id: str, *, include_internal: bool, include_rejected: bool
    ) -> Sequence[Attachment]:
        """The ticket's attachments in the order added.

        Without ``include_internal``, those with ``internal`` set are left
        out; without ``include_rejected``, those whose ``scan_status`` is
        ``rejected``.  ``scanning`` and ``clean`` ones are always listed.
        """
        ...

    def count_usage(self, ticket_id: str) -> AttachmentUsage:
        """How many attachments the ticket has that are not ``rejected``, and their total size.

        Internal ones count too: the limits are the ticket's, whoever sees
        the files.  Sees this transaction's own writes.
        """
        ...

    def mark_scanned(
        self, attachment_id: str, status: ScanStatus, *, reason: str | None = None
    ) -> Attachment | None:
        """Record the scanner's verdict on a ``scanning`` attachment and return it as stored.

        ``status`` is ``clean`` or ``rejected`` (``ValueError`` for
        ``scanning``); a rejected one gets ``reason`` as its
        ``rejection_reason``, a clean one keeps None whatever ``reason``
        says.  Returns None, changing nothing, when there is no such
        attachment or it is no longer ``scanning``: of two workers that
        scanned the same file, only the first verdict counts (SQL:
        ``UPDATE ... WHERE id = :id AND scan_status = 'scanning'`` and check
        the row count).
        """
        ...

    def list_scanning(self, limit: int) -> Sequence[Attachment]:
        """Up to ``limit`` ``scanning`` attachments, oldest ``uploaded_at`` first.

        Ties break in the order added.  Nothing is claimed: workers running
        at once may get the same ones, and :meth:`mark_scanned` keeps the
        first verdict.
        """
        ...

    def find_kept_blob_keys(self, keys: Collection[str]) -> set[str]:
        """Those of ``keys`` that an attachment still needs: one not ``rejected`` has it as
        ``blob_key``.

        The orphan sweep deletes the blobs of the other keys, so it must see
        every committed attachment; a rejected attachment's blob is garbage.
        ``keys`` may hold hundreds of keys (SQL: one ``IN`` query, or a few).
        """
        ...
