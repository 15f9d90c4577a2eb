"""nox sessions: lint, install, build (tests), docs."""

import nox

nox.options.default_venv_backend = "venv"


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def install(session: nox.Session) -> None:
    session.install("-e", ".[test]")
    session.run("lamin", "--help")


@nox.session
def build(session: nox.Session) -> None:
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "tests", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "docs", "tests/test_docs.py", *session.posargs)
