"""The shipped dump of the migrated core schema: current, equal to Django's result, used."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from lamindb_setup.dev._django import setup_django
from lamindb_setup.dev._settings_instance import InstanceSettings
from lamindb_setup.dev._setup_schema import (
    apply_migrations,
    create_sqlite_from_dump,
    schema_fingerprint,
    shipped_dump_path,
    shipped_sqlite_dump,
)

REGENERATE = "python -m lamindb_setup.dev._setup_schema"


def schema_of(path: Path) -> tuple[set, set]:
    with sqlite3.connect(path) as conn:
        objects = set(conn.execute("SELECT type, name, sql FROM sqlite_master"))
        migrations = set(conn.execute("SELECT app, name FROM django_migrations"))
    return objects, migrations


def test_shipped_dump_matches_the_migrations():
    first_line = shipped_dump_path().read_text().split("\n", 1)[0]
    expected = schema_fingerprint(("lnschema_core",))
    assert first_line.endswith(expected), f"core migrations changed: run `{REGENERATE}`"
    assert shipped_sqlite_dump(("lnschema_core",)) is not None
    assert shipped_sqlite_dump(("lnschema_core", "lnschema_other")) is None


def test_dump_creates_what_django_migrations_create(user, tmp_path):
    migrated = InstanceSettings(owner="x", name="migrated", storage_root=tmp_path / "a")
    migrated.storage.root  # noqa: B018  (creates the folder)
    setup_django(migrated)
    assert apply_migrations(migrated) == ["lnschema_core.0001_initial"]
    from django.db import connections

    connections.close_all()
    from_dump = tmp_path / "b" / "from_dump.lndb"
    create_sqlite_from_dump(shipped_sqlite_dump(("lnschema_core",)), from_dump)
    assert schema_of(migrated._sqlite_file_local) == schema_of(from_dump)


def test_first_init_on_a_machine_needs_no_django(user, tmp_path):
    code = (
        "import sys, lamindb_setup as ln; ln.init(storage='./first'); "
        "print('django' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
    with sqlite3.connect("first/first.lndb") as conn:
        assert conn.execute("SELECT handle FROM lnschema_core_user").fetchall() == [("testuser1",)]
