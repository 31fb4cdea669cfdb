"""The attachments area's contract: attachment metadata, scan verdicts and kept blobs."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from ..._errors import Conflict
from ..._models import (
    ScanStatus,
)
from ...storage.protocol import AttachmentUsage, Store
from .base import T0, ContractBase, World, _attachment, make_ticket


class AttachmentsContract(ContractBase):
    """What every adapter's ``work.attachments`` must do; one test per promise."""

    def test_attachment_round_trip_and_unique_blob(self, store: Store, world: World) -> None:
        ticket = make_ticket(world.desk, 1, world.alice)
        attachment = _attachment(ticket, "a", internal=True, scan_status=ScanStatus.SCANNING)
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            work.attachments.add(attachment)
        with store.unit_of_work() as work:
            assert work.attachments.get(attachment.id) == attachment
            assert work.attachments.get("nope") is None
        with pytest.raises(Conflict), store.unit_of_work() as work:
            work.attachments.add(attrs.evolve(attachment, blob_key="tickets/other"))
        with pytest.raises(Conflict), store.unit_of_work() as work:
            work.attachments.add(_attachment(ticket, "b", blob_key=attachment.blob_key))
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.attachments.add(_attachment(ticket, "c"))
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            listed = work.attachments.list_for_ticket(
                ticket.id, include_internal=True, include_rejected=True
            )
            assert list(listed) == [attachment]

    def test_attachments_listed_in_order_added_by_visibility(
        self, store: Store, world: World
    ) -> None:
        one, two = make_ticket(world.desk, 1, world.alice), make_ticket(world.desk, 2, world.bob)
        # Same upload time and ids out of order: only the order added may decide.
        public = _attachment(one, "p", id="z")
        note = _attachment(one, "n", id="y", internal=True)
        refused = _attachment(one, "r", id="x", scan_status=ScanStatus.REJECTED)
        waiting = _attachment(one, "w", id="w", scan_status=ScanStatus.SCANNING)
        elsewhere = _attachment(two, "e")
        with store.unit_of_work() as work:
            work.tickets.add(one)
            work.tickets.add(two)
            for attachment in (public, note, refused, waiting, elsewhere):
                work.attachments.add(attachment)
        with store.unit_of_work() as work:

            def listed(internal: bool, rejected: bool) -> list[str]:
                found = work.attachments.list_for_ticket(
                    one.id, include_internal=internal, include_rejected=rejected
                )
                return [attachment.filename for attachment in found]

            assert listed(True, True) == ["p", "n", "r", "w"]
            assert listed(False, True) == ["p", "r", "w"]
            assert listed(True, False) == ["p", "n", "w"]
            assert listed(False, False) == ["p", "w"]
            assert work.attachments.count_usage(one.id) == AttachmentUsage(files=3, bytes=3 * 100)
            assert work.attachments.count_usage("nope") == AttachmentUsage(files=0, bytes=0)

    def test_a_scan_is_finished_once(self, store: Store, world: World) -> None:
        ticket = make_ticket(world.desk, 1, world.alice)
        later = _attachment(ticket, "later", scan_status=ScanStatus.SCANNING)
        earlier = attrs.evolve(
            _attachment(ticket, "earlier", scan_status=ScanStatus.SCANNING),
            uploaded_at=T0 - timedelta(minutes=1),
        )
        clean = _attachment(ticket, "clean")
        with store.unit_of_work() as work:
            work.tickets.add(ticket)
            for attachment in (later, earlier, clean):
                work.attachments.add(attachment)
        with store.unit_of_work() as work:
            assert list(work.attachments.list_scanning(10)) == [earlier, later]
            assert list(work.attachments.list_scanning(1)) == [earlier]
            with pytest.raises(ValueError, match="scanning"):
                work.attachments.mark_scanned(earlier.id, ScanStatus.SCANNING)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.attachments.mark_scanned(earlier.id, ScanStatus.CLEAN)
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            refused = work.attachments.mark_scanned(earlier.id, ScanStatus.REJECTED, reason="EICAR")
            passed = work.attachments.mark_scanned(later.id, ScanStatus.CLEAN, reason="ignored")
            assert work.attachments.mark_scanned(earlier.id, ScanStatus.CLEAN) is None
            assert (
                work.attachments.mark_scanned(clean.id, ScanStatus.REJECTED, reason="late") is None
            )
            assert work.attachments.mark_scanned("nope", ScanStatus.CLEAN) is None
        assert refused == attrs.evolve(
            earlier, scan_status=ScanStatus.REJECTED, rejection_reason="EICAR"
        )
        assert passed == attrs.evolve(later, scan_status=ScanStatus.CLEAN)
        with store.unit_of_work() as work:
            assert work.attachments.get(earlier.id) == refused
            assert work.attachments.get(later.id) == passed
            assert work.attachments.get(clean.id) == clean
            assert list(work.attachments.list_scanning(10)) == []
            assert work.attachments.count_usage(ticket.id) == AttachmentUsage(files=2, bytes=200)

    def test_known_blob_keys_are_those_still_needed(self, store: Store, world: World) -> None:
        ticket = make_ticket(world.desk, 1, world.alice)
        kept = _attachment(ticket, "kept", internal=True)
        waiting = _attachment(ticket, "waiting", scan_status=ScanStatus.SCANNING)
        refused = _attachment(ticket, "refused", scan_status=ScanStatus.REJECTED)
        keys = [kept.blob_key, waiting.blob_key, refused.blob_key, "tickets/nobody/x"]
        with store.unit_of_work() as work:
            assert work.attachments.find_kept_blob_keys(keys) == set()
            work.tickets.add(ticket)
            for attachment in (kept, waiting, refused):
                work.attachments.add(attachment)
            assert work.attachments.find_kept_blob_keys(keys) == {kept.blob_key, waiting.blob_key}
        with store.unit_of_work() as work:
            assert work.attachments.find_kept_blob_keys(keys) == {kept.blob_key, waiting.blob_key}
            assert work.attachments.find_kept_blob_keys([]) == set()
            many = [f"tickets/{n}/x" for n in range(1500)] + [kept.blob_key]
            assert work.attachments.find_kept_blob_keys(many) == {kept.blob_key}
