"""Postgres instances against the real server on 127.0.0.1:5432."""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

import psycopg
import pytest
from conftest import run_lamin

import lamindb_setup as ln_setup
from lamindb_setup._settings import settings
from lamindb_setup.dev._errors import DatabaseConnectionError

pytestmark = pytest.mark.postgres


def pg_rows(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url.replace(":pwd@", "@")) as conn:
        return conn.execute(query).fetchall()


def dbname(url: str) -> str:
    return url.rsplit("/", 1)[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_init_postgres(user, pg_url, capsys):
    ln_setup.init(storage="./mystorage", db=pg_url)
    isettings = settings.instance
    assert isettings.name == dbname(pg_url)
    assert isettings.dialect == "postgresql"
    assert isettings.db == pg_url
    assert isettings.is_remote is False
    assert "Not registering local instance on hub" in capsys.readouterr().out
    tables = {row[0] for row in pg_rows(pg_url, "SELECT tablename FROM pg_tables")}
    assert {"lnschema_core_user", "lnschema_core_storage", "lnschema_core_file"} <= tables
    assert pg_rows(pg_url, "SELECT id, handle FROM lnschema_core_user") == [(user.id, "testuser1")]
    roots = pg_rows(pg_url, "SELECT root, type FROM lnschema_core_storage")
    assert roots == [(f"{Path.cwd().as_posix()}/mystorage", "local")]
    assert settings.storage.id == pg_rows(pg_url, "SELECT id FROM lnschema_core_storage")[0][0]
    # no SQLite file is made for a Postgres instance
    assert not (Path("mystorage") / f"{isettings.name}.lndb").exists()


def test_init_existing_postgres_instance_loads_it(user, pg_url, capsys):
    ln_setup.init(storage="./mystorage", db=pg_url)
    capsys.readouterr()
    ln_setup.init(storage="./mystorage", db=pg_url)
    assert "exists already" in capsys.readouterr().out
    assert len(pg_rows(pg_url, "SELECT id FROM lnschema_core_user")) == 1


def test_name_can_be_given(user, pg_url):
    ln_setup.init(storage="./mystorage", db=pg_url, name="custom")
    assert settings.instance.name == "custom"
    assert settings.instance.db == pg_url


def test_load_close_delete_keep_database(user, pg_url, home, capsys):
    ln_setup.init(storage="./mystorage", db=pg_url)
    name = dbname(pg_url)
    ln_setup.close()
    assert not settings._instance_exists
    assert ln_setup.load(name) is None
    assert settings.instance.db == pg_url
    capsys.readouterr()
    ln_setup.delete(name)
    out = capsys.readouterr().out
    assert "not dropped" in out
    assert not (home / ".lamin" / f"instance--testuser1--{name}.env").exists()
    assert not (home / ".lamin" / "current_instance.env").exists()
    # the database and its rows are still there
    assert len(pg_rows(pg_url, "SELECT id FROM lnschema_core_user")) == 1


def test_load_from_second_home_with_only_settings_files(user, pg_url, home, tmp_path, monkeypatch):
    ln_setup.init(storage="./mystorage", db=pg_url)
    name = dbname(pg_url)
    second = tmp_path / "second_home"
    (second / ".lamin").mkdir(parents=True)
    for file in ("current_user.env", f"instance--testuser1--{name}.env"):
        shutil.copy(home / ".lamin" / file, second / ".lamin" / file)
    monkeypatch.setenv("HOME", str(second))
    settings._reset()
    assert not settings._instance_exists
    assert ln_setup.load(f"testuser1/{name}") is None
    assert settings.instance.db == pg_url
    assert (second / ".lamin" / "current_instance.env").exists()


def test_set_storage_local_root(user, pg_url, home):
    ln_setup.init(storage="./mystorage", db=pg_url)
    assert ln_setup.set.storage("./storage_2") is None
    expected = f"{Path.cwd().as_posix()}/storage_2"
    assert settings.storage.root_as_str == expected
    assert settings.storage.root == Path(expected)
    roots = {row[0] for row in pg_rows(pg_url, "SELECT root FROM lnschema_core_storage")}
    assert expected in roots and len(roots) == 2
    name = dbname(pg_url)
    text = (home / ".lamin" / f"instance--testuser1--{name}.env").read_text()
    assert f"storage_root={expected}" in text
    settings._reset()
    assert settings.storage.root_as_str == expected


def test_set_storage_cli(user, pg_url):
    ln_setup.init(storage="./mystorage", db=pg_url)
    result = run_lamin("set", "--storage", "./storage_cli")
    assert result.returncode == 0, result.stderr
    settings._reset()
    assert settings.storage.root_as_str.endswith("/storage_cli")


def test_password_never_shown(user, pg_url, home, capsys):
    url = pg_url.replace(":pwd@", ":s3cr3t-pw@")
    ln_setup.init(storage="./mystorage", db=url)
    assert "s3cr3t-pw" not in capsys.readouterr().out
    assert "s3cr3t-pw" not in repr(settings.instance)
    assert ":***@" in repr(settings.instance)
    result = run_lamin("info")
    assert result.returncode == 0
    assert "s3cr3t-pw" not in result.stdout + result.stderr
    assert ":***@" in result.stdout
    # the settings file keeps it, readable only by the owner
    path = home / ".lamin" / f"instance--testuser1--{dbname(url)}.env"
    assert "s3cr3t-pw" in path.read_text()
    assert path.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "problem",
    ["server-down", "no-database", "no-role"],
)
def test_unreachable_postgres_fails_fast(user, pg_url, home, problem):
    port = free_port() if problem == "server-down" else 5432
    database = "does_not_exist_xyz" if problem == "no-database" else dbname(pg_url)
    role = "no_such_role" if problem == "no-role" else "postgres"
    url = f"postgresql://{role}:hush-hush@127.0.0.1:{port}/{database}"
    start = time.monotonic()
    with pytest.raises(DatabaseConnectionError) as info:
        ln_setup.init(storage="./mystorage", db=url)
    assert time.monotonic() - start < 10
    message = str(info.value)
    assert f"127.0.0.1:{port}/{database}" in message
    assert "hush-hush" not in message
    assert "\n" not in message
    assert not list((home / ".lamin").glob("instance--*"))
    assert not (home / ".lamin" / "current_instance.env").exists()


def test_unreachable_postgres_cli_exit_code(user, home):
    url = f"postgresql://postgres:hush-hush@127.0.0.1:{free_port()}/nowhere"
    result = run_lamin("init", "--storage", "./x", "--db", url)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "hush-hush" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert not list((home / ".lamin").glob("instance--*"))


def test_load_when_database_was_dropped(user, pg_url):
    ln_setup.init(storage="./mystorage", db=pg_url)
    from django.db import connections

    connections.close_all()
    admin = pg_url.replace(":pwd@", "@").rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{dbname(pg_url)}" WITH (FORCE)')
    with pytest.raises(RuntimeError, match="does not exist"):
        ln_setup.load(dbname(pg_url))


def test_invalid_db_urls_are_rejected(user):
    for url in ("mysql://u:p@h/db", "postgresql://", "not a url"):
        with pytest.raises(ValueError):
            ln_setup.init(storage="./mystorage", db=url)


def test_sqlite_instance_does_not_import_psycopg(user):
    result = run_lamin("init", "--storage", "./lite")
    assert result.returncode == 0, result.stderr
    import subprocess
    import sys

    code = "import sys, lamindb_setup as ln; ln.load('lite'); print('psycopg' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_set_storage_s3_root_with_fs_kwargs(user, pg_url, s3, bucket):
    ln_setup.init(storage="./mystorage", db=pg_url)
    assert ln_setup.set.storage(f"s3://{bucket}", cache_regions=False) is None
    storage = settings.storage
    assert storage.root_as_str == f"s3://{bucket}"
    assert storage.type == "s3" and storage.is_cloud
    assert storage.region == "us-east-1"
    assert storage.root.fs.storage_options.get("cache_regions") is False
    roots = {row[0] for row in pg_rows(pg_url, "SELECT root FROM lnschema_core_storage")}
    assert f"s3://{bucket}" in roots
    # Postgres on localhost stays a local instance even with cloud storage
    assert settings.instance.is_remote is False
