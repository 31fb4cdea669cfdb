"""The public API is what __init__ exports, and every piece of it says what it is for."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil
from pathlib import Path

import pytest

import supportdesk

PUBLIC = sorted(supportdesk.__all__)


def documented(thing: object) -> bool:
    return bool((inspect.getdoc(thing) or "").strip())


@pytest.mark.parametrize("name", PUBLIC)
def test_exported_names_exist_and_are_documented(name: str) -> None:
    thing = getattr(supportdesk, name)
    if inspect.isclass(thing) or inspect.isfunction(thing):
        assert documented(thing), f"{name} has no docstring"


@pytest.mark.parametrize("name", [n for n in PUBLIC if inspect.isclass(getattr(supportdesk, n))])
def test_public_methods_are_documented(name: str) -> None:
    cls = getattr(supportdesk, name)
    # Methods a class inherits from supportdesk's own bases (the desk's mixins) count too.
    own = [base for base in cls.__mro__ if base.__module__.startswith("supportdesk")]
    missing = [
        f"{base.__name__}.{attribute}"
        for base in own
        for attribute, member in vars(base).items()
        if not attribute.startswith("_")
        and (inspect.isfunction(member) or isinstance(member, classmethod | property))
        and not documented(member.__func__ if isinstance(member, classmethod) else member)
    ]
    assert missing == [], f"{name}: undocumented {missing}"


def test_the_desk_offers_every_use_case() -> None:
    methods = [n for n, _ in inspect.getmembers(supportdesk.SupportDesk) if not n.startswith("_")]
    assert len(methods) >= 60
    assert {"open_ticket", "share_update", "run_due_timers", "attach", "search"} <= set(methods)


def test_every_module_states_its_purpose() -> None:
    # __main__ and the Alembic environment run when imported; read them instead.
    names = [info.name for info in pkgutil.walk_packages(supportdesk.__path__, "supportdesk.")]
    imported = [n for n in names if n != "supportdesk.__main__" and ".migrations" not in n]
    silent = [name for name in imported if not documented(importlib.import_module(name))]
    assert silent == []
    for name in set(names) - set(imported):
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        tree = ast.parse(Path(spec.origin).read_text())
        assert ast.get_docstring(tree), f"{name} has no docstring"


@pytest.mark.parametrize("name", PUBLIC)
def test_exported_names_report_the_public_module(name: str) -> None:
    thing = getattr(supportdesk, name)
    if inspect.isclass(thing) or inspect.isfunction(thing):
        assert thing.__module__ == "supportdesk", f"{name} reports {thing.__module__}"


def test_exported_models_still_round_trip_after_renaming_their_module() -> None:
    # The rename must not break annotation look-ups (cattrs resolves them lazily).
    contact = supportdesk.Contact(email="a@x.test", full_name="A")
    assert supportdesk.from_data(supportdesk.to_data(contact), supportdesk.Contact) == contact


def test_errors_are_also_the_builtins_hosts_catch() -> None:
    with pytest.raises(LookupError):
        raise supportdesk.NotFound("ticket", "HHA-1")
    with pytest.raises(ValueError, match="summary"):
        raise supportdesk.ValidationError({"summary": "Enter a summary."})
