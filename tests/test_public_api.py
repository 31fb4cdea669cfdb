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
    missing = [
        attribute
        for attribute, member in vars(cls).items()
        if not attribute.startswith("_")
        and (inspect.isfunction(member) or isinstance(member, classmethod | property))
        and not documented(member.__func__ if isinstance(member, classmethod) else member)
    ]
    assert missing == [], f"{name}: undocumented {missing}"


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
