"""The layers of DESIGN.md hold: imports point downwards only, and no modules import in a cycle.

Every import in the package counts, also those inside functions and under
``TYPE_CHECKING``: a function-level import hides a cycle, it does not break it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import supportdesk

PACKAGE = Path(supportdesk.__file__).parent

LAYERS: tuple[tuple[str, ...], ...] = (
    # Highest first.  Modules in one tuple are independent siblings: neither
    # may import the other.  A name covers the module and everything below it.
    ("supportdesk.__main__",),
    ("supportdesk.cli", "supportdesk.testing"),
    ("supportdesk.worker",),
    ("supportdesk.desk",),
    (
        "supportdesk._desk_base",
        "supportdesk._desk_rules",
        "supportdesk._sla_steps",
        "supportdesk._account_cases",
        "supportdesk._attachment_cases",
        "supportdesk._attachment_upkeep",
        "supportdesk._collaborator_cases",
        "supportdesk._content_cases",
        "supportdesk._directory_cases",
        "supportdesk._list_cases",
        "supportdesk._mail_cases",
        "supportdesk._mail_reading",
        "supportdesk._notification_cases",
        "supportdesk._privacy_cases",
        "supportdesk._status_moves",
        "supportdesk._ticket_cases",
        "supportdesk._timer_cases",
        "supportdesk._workflow_cases",
        "supportdesk._paging",
        "supportdesk._views",
    ),
    # The services the use cases call: notifications, sign-up, attachment checks.
    (
        "supportdesk.notifications",
        "supportdesk.accounts",
        "supportdesk.attachments",
        "supportdesk.sla",
        "supportdesk.mail",
    ),
    ("supportdesk.storage", "supportdesk.blobs"),
    ("supportdesk.workflow", "supportdesk.forms", "supportdesk.access", "supportdesk.search"),
    ("supportdesk.clock",),
    (
        "supportdesk._models",
        "supportdesk._errors",
        "supportdesk._serialization",
        "supportdesk._input",
    ),
    ("supportdesk._base64", "supportdesk._version"),
)
"""The package's layers; the first tuples also hold the desk's private use-case modules."""

DEPENDENT_SIBLINGS = frozenset(
    i
    for i, layer in enumerate(LAYERS)
    if {"supportdesk._desk_base", "supportdesk._models"} & set(layer)
)
"""Layers whose modules may import each other (the use-case mixins; the models and errors)."""

STORAGE_LAYERS: tuple[tuple[str, ...], ...] = (
    ("supportdesk.storage.memory", "supportdesk.storage.sql"),
    ("supportdesk.storage.protocol",),
)
"""Inside storage: adapters over the contract, and no adapter imports another."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:]) if "." in name else Path()
    base = PACKAGE / relative
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _imports(path: Path) -> Iterator[str]:
    """The package's modules that the file at ``path`` imports, wherever the import stands."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("supportdesk"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{node.module}" if node.module else anchor
            elif node.module and node.module.startswith("supportdesk"):
                base = node.module
            else:
                continue
            for alias in node.names:
                target = f"{base}.{alias.name}"
                yield target if _is_module(target) else base


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue  # Alembic revisions are loaded by Alembic, not imported.
        module = _module_name(path)
        graph[module] = {target for target in _imports(path) if target != module}
    return graph


def _place(module: str, layers: tuple[tuple[str, ...], ...]) -> tuple[int, str] | None:
    if module == "supportdesk":
        return -1, module  # The public names: above everything, imported by nothing inside.
    for index, layer in enumerate(layers):
        for owner in layer:
            if module == owner or module.startswith(f"{owner}."):
                return index, owner
    return None


def layer_violations(
    graph: dict[str, set[str]],
    layers: tuple[tuple[str, ...], ...],
    dependent: frozenset[int] = frozenset(),
) -> list[str]:
    """Each import that points upwards, or across independent siblings."""
    found = []
    for module, targets in sorted(graph.items()):
        here = _place(module, layers)
        for target in sorted(targets):
            there = _place(target, layers)
            if here is None or there is None or here[1] == there[1]:
                continue
            if there[0] < here[0]:
                found.append(f"{module} imports {target}, a higher layer")
            elif there[0] == here[0] and here[0] not in dependent:
                found.append(f"{module} imports {target}, an independent sibling")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or not (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in graph.get(module, ()):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_every_module_has_a_layer() -> None:
    unplaced = [m for m in import_graph() if m != "supportdesk" and _place(m, LAYERS) is None]
    assert unplaced == []


def test_imports_point_downwards() -> None:
    assert layer_violations(import_graph(), LAYERS, DEPENDENT_SIBLINGS) == []


def test_storage_adapters_sit_over_the_contract() -> None:
    assert layer_violations(import_graph(), STORAGE_LAYERS) == []


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


@pytest.mark.parametrize(
    ("module", "target", "expected"),
    [
        ("supportdesk._models", "supportdesk.desk", "a higher layer"),
        ("supportdesk.forms", "supportdesk.access", "an independent sibling"),
        ("supportdesk.storage.sql.tickets", "supportdesk.storage.memory", "an independent sibling"),
        ("supportdesk.storage.protocol.tickets", "supportdesk.storage.sql", "a higher layer"),
        ("supportdesk.access", "supportdesk", "a higher layer"),
    ],
)
def test_a_broken_layer_is_named(module: str, target: str, expected: str) -> None:
    graph = import_graph()
    graph.setdefault(module, set()).add(target)
    found = layer_violations(graph, LAYERS, DEPENDENT_SIBLINGS) + layer_violations(
        graph, STORAGE_LAYERS
    )
    assert f"{module} imports {target}, {expected}" in found


def test_a_cycle_is_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
