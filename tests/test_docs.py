"""The documentation cannot rot: README and docs Python blocks run; the diagram matches the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from supportdesk import DEFAULT_WORKFLOW, Workflow

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```(python|mermaid)\n(.*?)```", re.DOTALL)


def blocks(kind: str) -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for number, match in enumerate(BLOCK.finditer(page.read_text())):
            if match.group(1) == kind:
                found.append((f"{page.name}#{number}", match.group(2)))
    return found


@pytest.mark.parametrize(("where", "code"), blocks("python"), ids=lambda value: value[:30])
def test_python_blocks_run(where: str, code: str) -> None:
    exec(compile(code, where, "exec"), {"__name__": "docs"})


def test_workflow_diagram_is_current() -> None:
    (diagram,) = [code for where, code in blocks("mermaid") if where.startswith("workflow.md")]
    assert diagram.strip() == Workflow(DEFAULT_WORKFLOW).to_mermaid().strip()


TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def test_security_claims_point_at_tests_that_exist() -> None:
    page = (ROOT / "docs" / "security.md").read_text()
    named = TEST_REFERENCE.findall(page)
    assert len(named) >= 30
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not re.search(rf"^\s*def {name}\(", (ROOT / path).read_text(), re.MULTILINE)
    ]
    assert missing == []
