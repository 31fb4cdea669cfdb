"""Developer tasks: ``nox -s tests`` (lint, types, tests), ``demo``, ``docs``, ``bench``."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests"]

DOCS_DEPS = ["mkdocs>=1.6", "mkdocs-material>=9.5", "mkdocstrings[python]>=0.26"]

TEST_DEPS = [
    "pytest>=8",
    "hypothesis>=6.100",
    "moto[server]>=5.0.20",
    "aiosmtpd>=1.4.4",
    "mypy>=1.10",
    "ruff>=0.6",
    "boto3-stubs[s3]>=1.34",
    *DOCS_DEPS,
    # The host recipes in examples/recipes and their test clients.
    "flask>=3.0",
    "fastapi>=0.110",
    "httpx>=0.27",
    "httpx2>=2.0",
    "django>=5.0",
]


@nox.session
def tests(session: nox.Session) -> None:
    """Lint, type-check ``src/`` strictly and run the whole test suite."""
    session.install("-e", ".[postgres,s3]", *TEST_DEPS)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", "--strict", "src")
    session.run("pytest", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Run the quickstart: the two portals on a SQLite file, with a fake clock."""
    session.install("-e", ".")
    session.run("python", "examples/quickstart.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Measure the use cases; prints a table and writes bench-results/*.json."""
    session.install("-e", ".[postgres]")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site into ``site/``, warnings as errors."""
    session.install("-e", ".", *DOCS_DEPS)
    session.run("mkdocs", "build", "--strict", env={"NO_MKDOCS_2_WARNING": "1"})
