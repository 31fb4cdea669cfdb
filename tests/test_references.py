"""Ticket references: a desk's sequence continues where the host says, forward only."""

from __future__ import annotations

import pytest

from supportdesk import NotFound, Submission, ValidationError

from .conftest import Portal


def test_a_desk_continues_its_references_at_a_chosen_number(portal: Portal) -> None:
    desk = portal.desk
    desk.set_next_reference(portal.help_desk.id, 13783)
    first = desk.open_ticket(
        portal.alice, portal.general.id, Submission(summary="One", description="d")
    )
    second = desk.open_ticket(
        portal.alice, portal.general.id, Submission(summary="Two", description="d")
    )
    assert (first.reference, second.reference) == ("HHA-13783", "HHA-13784")
    other = desk.open_ticket(portal.alice, portal.incident.id, Submission(summary="Three"))
    assert other.reference == "HHA-13785"


@pytest.mark.parametrize("number", [0, -5, 13784])
def test_a_sequence_never_moves_back(portal: Portal, number: int) -> None:
    desk = portal.desk
    desk.set_next_reference(portal.help_desk.id, 13784)
    desk.open_ticket(portal.alice, portal.general.id, Submission(summary="One", description="d"))
    with pytest.raises(ValidationError) as refused:
        desk.set_next_reference(portal.help_desk.id, number)
    assert "number" in refused.value.errors
    opened = desk.open_ticket(portal.alice, portal.incident.id, Submission(summary="Two"))
    assert opened.reference == "HHA-13785"


def test_the_number_must_be_an_int_and_the_desk_must_exist(portal: Portal) -> None:
    with pytest.raises(TypeError, match="number"):
        portal.desk.set_next_reference(portal.help_desk.id, "13783")  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        portal.desk.set_next_reference("no-such-desk", 5)
