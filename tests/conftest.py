"""Shared fixtures: an isolated HOME per test, a moto S3 server, Postgres databases."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

PG_HOST = os.environ.get("LAMIN_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("LAMIN_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("LAMIN_TEST_PG_USER", "postgres")


def _reset_process_state() -> None:
    """Forget everything lamindb_setup cached for the previous HOME."""
    from lamindb_setup._settings import settings

    settings._reset()


@pytest.fixture(autouse=True)
def home(tmp_path_factory, monkeypatch) -> Path:
    """A fresh HOME (and so `~/.lamin`) and working directory for every test."""
    home = tmp_path_factory.mktemp("home")
    work = tmp_path_factory.mktemp("work")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.delenv("LAMIN_ENV", raising=False)
    monkeypatch.delenv("LAMIN_HUB_URL", raising=False)
    monkeypatch.delenv("LAMIN_HUB_DIR", raising=False)
    monkeypatch.delenv("LAMINDB_INSTANCE_LOADED", raising=False)
    monkeypatch.chdir(work)
    _reset_process_state()
    yield home
    _reset_process_state()


@pytest.fixture
def user(home):
    """A signed-up, logged-in user `testuser1`."""
    import lamindb_setup as ln_setup

    ln_setup.signup("testuser1@lamin.ai")
    return ln_setup.settings.user


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """A cache dir kept across tests, so the pre-migrated SQLite template is built once.

    Tests that call `init` with the fresh cache of the `home` fixture run all migrations.
    """
    return tmp_path_factory.mktemp("shared-cache")


def run_lamin(*args: str, env: dict | None = None, cwd=None, input: str | None = None):
    """Run the `lamin` CLI in a subprocess with the test's HOME."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "lamindb_setup", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        input=input,
        timeout=120,
    )


# --- Postgres -------------------------------------------------------------------------


def _postgres_available() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def pg_url():
    """A fresh Postgres database on the local server; dropped after the test."""
    if not _postgres_available():
        reason = f"no Postgres server answers on {PG_HOST}:{PG_PORT}"
        if os.environ.get("LAMIN_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason}, but LAMIN_TEST_REQUIRE_POSTGRES=1 (CI) needs it")
        pytest.skip(reason)
    import psycopg

    dbname = f"lamintest_{uuid.uuid4().hex[:10]}"
    admin = f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    yield f"postgresql://{PG_USER}:pwd@{PG_HOST}:{PG_PORT}/{dbname}"
    try:
        from django.db import connections

        connections.close_all()
    except Exception:
        pass
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


# --- S3 (moto server on loopback) -------------------------------------------------------


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on 127.0.0.1 (random port) for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    yield endpoint
    server.stop()


@pytest.fixture
def s3(s3_server, monkeypatch):
    """Point boto/s3fs at the moto server with dummy credentials; yields the endpoint."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield s3_server


@pytest.fixture
def bucket(s3):
    """A fresh, empty S3 bucket in us-east-1; yields its name."""
    import boto3

    name = f"lamin-test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3).create_bucket(Bucket=name)
    yield name
