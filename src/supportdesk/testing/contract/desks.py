"""The desks area's contract: desks, request types and reference sequences."""

from __future__ import annotations

import pytest

from ..._errors import Conflict
from ..._models import (
    Desk,
)
from ...storage.protocol import Store
from .base import (
    ContractBase,
)


class DesksContract(ContractBase):
    """What every adapter's ``work.desks`` must do; one test per promise."""

    def test_desk_key_is_unique(self, store: Store) -> None:
        with store.unit_of_work() as work:
            work.desks.put_desk(Desk(key="HHA", name="One"))
        with pytest.raises(Conflict), store.unit_of_work() as work:
            work.desks.put_desk(Desk(key="HHA", name="Two"))

    def test_references_are_sequential_per_desk_and_never_reused(self, store: Store) -> None:
        with store.unit_of_work() as work:
            assert [work.desks.claim_reference("a") for _ in range(3)] == [1, 2, 3]
            assert work.desks.claim_reference("b") == 1
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.desks.claim_reference("a")
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert work.desks.claim_reference("a") >= 4

    def test_next_reference_peeks_without_taking(self, store: Store) -> None:
        with store.unit_of_work() as work:
            assert work.desks.get_next_reference("a") == 1
            assert work.desks.get_next_reference("a") == 1
            assert work.desks.claim_reference("a") == 1
            assert work.desks.get_next_reference("a") == 2

    def test_a_sequence_can_start_later_and_never_moves_back(self, store: Store) -> None:
        with store.unit_of_work() as work:
            work.desks.put_next_reference("a", 13783)
            work.desks.put_next_reference("a", 13783)
            assert work.desks.get_next_reference("a") == 13783
            assert work.desks.claim_reference("a") == 13783
        with pytest.raises(Conflict), store.unit_of_work() as work:
            work.desks.put_next_reference("a", 13783)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.desks.put_next_reference("a", 20000)
            raise RuntimeError("roll back")
        with store.unit_of_work() as work:
            assert work.desks.claim_reference("a") == 13784
            work.desks.put_next_reference("b", 500)
            assert work.desks.claim_reference("b") == 500
