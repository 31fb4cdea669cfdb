"""Developer tasks: ``nox -s tests`` (lint, types, tests), ``demo``, ``docs``, the benchmarks."""

from __future__ import annotations

import tomllib
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests"]

PYTHONS = ["3.11", "3.12", "3.13"]
"""The Python versions pyproject declares; ``tests`` runs on the first."""

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
    # The example portal's browser tests drive Debian's chromium (.ci/run installs it).
    "playwright>=1.40",
]


@nox.session
def tests(session: nox.Session) -> None:
    """Lint, type-check ``src/`` strictly and run the whole test suite."""
    session.install("-e", ".[postgres,s3]", *TEST_DEPS)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", "--strict", "src")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHONS[1:])
def compat(session: nox.Session) -> None:
    """The test suite on the other Python versions pyproject declares, where installed."""
    session.install("-e", ".[postgres,s3]", *TEST_DEPS)
    session.run("pytest", "-q", *session.posargs)


@nox.session
def lowest(session: nox.Session) -> None:
    """The test suite on the lowest dependency versions pyproject allows (S3 aside)."""
    session.install(*_lowest_pins(), "pytest>=8", "hypothesis>=6.100", "aiosmtpd>=1.4.4")
    session.install("--no-deps", "-e", ".")
    # moto needs a newer boto3 than the lowest one allowed: the S3 tests run in `tests`.
    session.run("pytest", "-q", "-m", "not s3", "-p", "no:cacheprovider", *session.posargs)


def _lowest_pins() -> list[str]:
    """Each runtime dependency (extras postgres and s3 included) pinned at its lower bound."""
    with open("pyproject.toml", "rb") as file:
        project = tomllib.load(file)["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["postgres"]]
    wanted += project["optional-dependencies"]["s3"]
    return [requirement.replace(">=", "==") for requirement in wanted]


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


PEER = [
    "django-helpdesk==2.6.1",
    # What django-helpdesk's migrations need installed.
    "pinax-teams>=3.0",
    "pinax-invitations>=8.0",
    "django-user-accounts>=3.3",
]
"""The peer the benchmark measures the library beside (benchmarks/peer_compare.py)."""


@nox.session(name="bench-peer")
def bench_peer(session: nox.Session) -> None:
    """The library beside django-helpdesk 2.6.1, round by round; the peer in its own venv."""
    session.install("-e", ".")
    peer = Path(session.create_tmp()) / "peer-venv"
    python = peer / "bin" / "python"
    if not python.exists():
        session.run("python", "-m", "venv", str(peer))
        session.run(str(python), "-m", "pip", "install", "--quiet", *PEER, external=True)
    session.run(
        "python", "benchmarks/peer_compare.py", "--peer-python", str(python), *session.posargs
    )


@nox.session
def portal(session: nox.Session) -> None:
    """The example portal and its worker on portal.db, at http://127.0.0.1:5000."""
    session.install("-e", ".", "flask>=3.0")
    session.run("python", "-m", "examples.portal.serve", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site into ``site/``, warnings as errors."""
    session.install("-e", ".", *DOCS_DEPS)
    session.run("mkdocs", "build", "--strict", env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session
def soak(session: nox.Session) -> None:
    """Soak: 8 worker processes on Postgres and S3 (moto) for 3 minutes, a kill and a restart.

    SUPPORTDESK_SOAK_SECONDS, SUPPORTDESK_SOAK_WORKERS and SUPPORTDESK_SOAK_SEED
    change the run; tests/soak/scenario.py lists every setting.  Prints the figures.
    """
    session.install(
        "-e", ".[postgres,s3]", "pytest>=8", "hypothesis>=6.100", "moto[server]>=5.0.20"
    )
    session.run(
        "pytest",
        "-p",
        "no:cacheprovider",
        "-s",
        "tests/soak",
        *session.posargs,
        env={"SUPPORTDESK_SOAK_PROFILE": "full"},
    )
