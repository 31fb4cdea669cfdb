"""Every adapter's unit of work offers each area's repository, method for method as specified."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from supportdesk import Store, UnitOfWork
from supportdesk.storage import protocol

AREAS = {
    name: member.fget.__annotations__["return"]
    for name, member in vars(UnitOfWork).items()
    if isinstance(member, property) and member.fget is not None
}
"""Area name -> the name of its protocol class, as the unit of work declares it."""


def _methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(cls).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }


def test_the_unit_of_work_has_the_fourteen_areas() -> None:
    assert sorted(AREAS) == [
        "accounts",
        "activity",
        "attachments",
        "content",
        "desks",
        "directory",
        "feed",
        "mail",
        "outbox",
        "participants",
        "privacy",
        "search",
        "tickets",
        "timers",
    ]


@pytest.mark.parametrize("area", sorted(AREAS))
def test_each_area_is_small(area: str) -> None:
    assert 1 <= len(_methods(getattr(protocol, AREAS[area]))) <= 12


@pytest.mark.parametrize("area", sorted(AREAS))
def test_adapters_offer_every_method_of_the_area(store: Store, area: str) -> None:
    expected = _methods(getattr(protocol, AREAS[area]))
    with store.unit_of_work() as work:
        repository = getattr(work, area)
    found = {name: inspect.signature(getattr(repository, name)) for name in expected}
    for name, signature in expected.items():
        wanted = [p for p in signature.parameters if p != "self"]
        assert list(found[name].parameters) == wanted, f"{area}.{name}"


STORAGE = Path(protocol.__file__).parent.parent


@pytest.mark.parametrize(
    "module", sorted(str(p.relative_to(STORAGE)) for p in STORAGE.rglob("*.py"))
)
def test_each_storage_module_is_short_enough_to_read(module: str) -> None:
    # One area's change stays in files one can hold in mind; a longer one wants splitting.
    assert len((STORAGE / module).read_text().splitlines()) <= 400
