"""Schema modules and migrations: init with a module, upgrade it, create and deploy migrations.

A process holds one set of Django apps, so every step that uses the example module
`lnschema_testmod` runs in a subprocess whose PYTHONPATH selects its version
(`tests/schema_modules/v1` or `v2`). Steps with only the core schema run in-process.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import run_lamin

import lamindb_setup as ln_setup
from lamindb_setup._settings import settings
from lamindb_setup.dev._errors import SetupRuntimeError

MODULES = Path(__file__).parent / "schema_modules"
REPO = Path(__file__).parent.parent


def module_env(module_dir: Path | str | None) -> dict:
    """Environment whose PYTHONPATH has `module_dir` (a version of the example module) or none."""
    paths = [str(module_dir)] if module_dir else []
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    return {"PYTHONPATH": os.pathsep.join(paths)}


def lamin(version: Path | str | None, *args: str) -> subprocess.CompletedProcess:
    """`lamin *args` in a subprocess with `version` ("v1", "v2", a folder or None) installed."""
    module_dir = MODULES / version if version in ("v1", "v2") else version
    return run_lamin(*args, env=module_env(module_dir))


def python(version: str | None, code: str) -> subprocess.CompletedProcess:
    """Python `code` in a subprocess with a version of the example module installed."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, **module_env(MODULES / version if version else None)},
        timeout=120,
    )


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


def failed(result: subprocess.CompletedProcess) -> str:
    """The stderr of a command that must have failed with one user-facing line."""
    assert result.returncode == 1, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr


class Instance:
    """An instance under test: how to create it and how to look into its database."""

    def __init__(self, name: str, db: str | None):
        self.name = name
        self.db = db

    @property
    def db_arg(self) -> str:
        return repr(self.db)

    def rows(self, query: str) -> list[tuple]:
        if self.db is None:
            with sqlite3.connect(Path(self.name) / f"{self.name}.lndb") as conn:
                return conn.execute(query).fetchall()
        import psycopg

        with psycopg.connect(self.db.replace(":pwd@", "@")) as conn:
            return [tuple(row) for row in conn.execute(query).fetchall()]

    def applied(self, app: str = "lnschema_testmod") -> list[str]:
        rows = self.rows(f"SELECT name FROM django_migrations WHERE app = '{app}'")
        return sorted(name for (name,) in rows)

    def columns(self, table: str) -> set[str]:
        if self.db is None:
            return {row[1] for row in self.rows(f"PRAGMA table_info({table})")}
        query = f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'"
        return {name for (name,) in self.rows(query)}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def instance(request, user) -> Instance:
    """A SQLite instance with storage `./mydata`, or one on a fresh Postgres database."""
    if request.param == "sqlite":
        return Instance("mydata", None)
    url = request.getfixturevalue("pg_url")
    return Instance(url.rsplit("/", 1)[1], url)


INIT_V1_WITH_A_ROW = """
    import lamindb_setup as ln_setup
    ln_setup.init(storage="./mydata", db={db}, schema="testmod")
    from lnschema_core import User
    from lnschema_testmod import Thing
    Thing.objects.create(name="first", created_by=User.objects.get(handle="testuser1"))
    print(sorted(ln_setup.settings.instance.schema))
"""


def test_upgrade_v1_to_v2_keeps_rows(instance):
    # a user creates an instance with version 1 of the module and adds a row
    result = ok(python("v1", INIT_V1_WITH_A_ROW.format(db=instance.db_arg)))
    assert "['testmod']" in result.stdout
    assert instance.applied() == ["0001_initial"]
    assert instance.applied("lnschema_core") == ["0001_initial"]
    assert instance.rows("SELECT name FROM lnschema_testmod_thing") == [("first",)]
    assert "color" not in instance.columns("lnschema_testmod_thing")

    # after `pip install -U lnschema_testmod`, load warns and changes nothing
    result = ok(lamin("v2", "load", instance.name))
    assert "pending migrations: lnschema_testmod.0002_thing_color_tag" in result.stderr
    assert "lamin migrate deploy" in result.stderr
    assert instance.applied() == ["0001_initial"]

    result = ok(lamin("v2", "migrate", "show"))
    assert "[X] 0001_initial" in result.stdout and "[ ] 0002_thing_color_tag" in result.stdout

    result = ok(lamin("v2", "migrate", "deploy"))
    assert "Applied migrations" in result.stdout and "0002_thing_color_tag" in result.stdout
    assert instance.applied() == ["0001_initial", "0002_thing_color_tag"]

    # the row survived and the new schema is usable
    result = ok(
        python(
            "v2",
            """
            import lamindb_setup as ln_setup
            from lnschema_testmod import Tag, Thing
            thing = Thing.objects.get(name="first")
            Tag.objects.create(label="red-ish", thing=thing)
            print("color", thing.color, thing.created_by_id == ln_setup.settings.user.id)
            print("check", ln_setup.migrate.check())
            print("show", all(applied for _, applied in ln_setup.migrate.show()))
            print("deploy", ln_setup.migrate.deploy())
            print("entities", ln_setup.schema.list_entities())
            """,
        )
    )
    assert "color blue True" in result.stdout
    assert "check True" in result.stdout and "show True" in result.stdout
    assert "deploy migrate-unnecessary" in result.stdout
    assert "'lnschema_testmod_tag', 'lnschema_testmod_thing'" in result.stdout
    assert instance.rows("SELECT label FROM lnschema_testmod_tag") == [("red-ish",)]

    # back on version 1 the database is newer than the code
    stderr = failed(lamin("v1", "load", instance.name))
    assert "newer than the installed schema modules (lnschema_testmod 0.1.0)" in stderr
    assert "lnschema_testmod.0002_thing_color_tag" in stderr
    assert "pip install -U lnschema_testmod" in stderr

    # without the module at all
    stderr = failed(lamin(None, "load", instance.name))
    assert "pip install lnschema_testmod" in stderr
    assert instance.rows("SELECT name, color FROM lnschema_testmod_thing") == [("first", "blue")]


def test_load_with_migrate_deploys_to_the_loaded_instance(user):
    ok(lamin("v1", "init", "--storage", "./first", "--schema", "testmod"))
    ok(lamin("v1", "init", "--storage", "./second", "--schema", "testmod"))  # now current
    result = ok(lamin("v2", "load", "first", "--migrate"))
    assert "Applied migrations to testuser1/first" in result.stdout
    assert "pending" not in result.stderr
    assert Instance("first", None).applied() == ["0001_initial", "0002_thing_color_tag"]
    assert Instance("second", None).applied() == ["0001_initial"]


def test_sqlite_template_follows_the_migration_files(user, home):
    ok(lamin("v1", "init", "--storage", "./old", "--schema", "testmod"))
    ok(lamin("v2", "init", "--storage", "./new", "--schema", "testmod"))
    # one pre-migrated template per set of migration files
    templates = list((home / ".cache").rglob("templates/sqlite-*.lndb"))
    assert len(templates) == 2
    assert Instance("old", None).applied() == ["0001_initial"]
    assert Instance("new", None).applied() == ["0001_initial", "0002_thing_color_tag"]
    assert "color" in Instance("new", None).columns("lnschema_testmod_thing")


def test_migrate_create_in_a_scratch_copy(user, tmp_path):
    core_migrations = sorted(os.listdir(REPO / "lnschema_core" / "migrations"))
    shutil.copytree(MODULES / "v1" / "lnschema_testmod", tmp_path / "lnschema_testmod")
    migrations = tmp_path / "lnschema_testmod" / "migrations"
    models = tmp_path / "lnschema_testmod" / "models.py"
    ok(lamin(tmp_path, "init", "--storage", "./dev", "--schema", "testmod"))

    # the maintainer adds a field; CI's check notices the missing migration
    models.write_text(models.read_text() + "    size = models.IntegerField(null=True)\n")
    result = lamin(tmp_path, "migrate", "check")
    assert result.returncode == 1
    assert "Add field size to thing" in result.stderr

    result = ok(lamin(tmp_path, "migrate", "create"))
    assert f"Wrote migration {migrations / '0002_thing_size.py'}" in result.stdout
    assert "0002_thing_size.py" in os.listdir(migrations)
    assert "No changes" in ok(lamin(tmp_path, "migrate", "create")).stdout

    result = ok(lamin(tmp_path, "migrate", "deploy"))
    assert "lnschema_testmod.0002_thing_size" in result.stdout
    assert "size" in Instance("dev", None).columns("lnschema_testmod_thing")

    # a change makemigrations cannot write without asking: one clear line, no file
    models.write_text(models.read_text() + "    weight = models.IntegerField()\n")
    stderr = failed(lamin(tmp_path, "migrate", "create"))
    assert "impossible to add a non-nullable field" in stderr
    assert sorted(path.name for path in migrations.glob("0*.py")) == [
        "0001_initial.py",
        "0002_thing_size.py",
    ]
    # nothing was written into the installed core schema
    assert sorted(os.listdir(REPO / "lnschema_core" / "migrations")) == core_migrations


@pytest.mark.s3
def test_deploy_on_cloud_sqlite_uploads(user, s3, bucket):
    import boto3

    from lamindb_setup.dev.upath import UPath, cloud_mtime

    ok(lamin("v1", "init", "--storage", f"s3://{bucket}", "--schema", "testmod"))
    result = ok(lamin("v2", "migrate", "deploy"))
    assert "0002_thing_color_tag" in result.stdout

    client = boto3.client("s3", endpoint_url=s3)
    downloaded = Path(f"cloud-{bucket}.lndb")
    client.download_file(bucket, f"{bucket}.lndb", str(downloaded))
    with sqlite3.connect(downloaded) as conn:
        query = "SELECT name FROM django_migrations WHERE app = 'lnschema_testmod'"
        applied = sorted(name for (name,) in conn.execute(query))
    assert applied == ["0001_initial", "0002_thing_color_tag"]
    keys = [obj["Key"] for obj in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert not [key for key in keys if key.endswith(".lock")]  # the lock was released
    # the cache copy is aligned with the uploaded object
    local = next(Path(os.environ["XDG_CACHE_HOME"]).rglob(f"{bucket}/{bucket}.lndb"))
    assert int(local.stat().st_mtime) == int(cloud_mtime(UPath(f"s3://{bucket}/{bucket}.lndb")))
    # another load sees nothing pending
    assert "pending" not in ok(lamin("v2", "load", bucket)).stderr


def test_configured_module_not_installed(user):
    import importlib.util

    if importlib.util.find_spec("lnschema_bionty") is not None:
        pytest.skip("lnschema_bionty is installed here")
    with pytest.raises(SetupRuntimeError, match="pip install lnschema_bionty$"):
        ln_setup.init(storage="./mydata", schema="bionty")
    assert not settings._instance_exists
    assert not Path("mydata/mydata.lndb").exists()


# --- core schema only: in-process ----------------------------------------------------------


def test_migrate_on_core_only_instance(user, capsys):
    ln_setup.init(storage="./mydata")
    assert ln_setup.migrate.show() == [("lnschema_core.0001_initial", True)]
    assert "[X] 0001_initial" in capsys.readouterr().out
    assert ln_setup.migrate.check() is True
    assert ln_setup.migrate.deploy() == "migrate-unnecessary"
    assert "up to date" in capsys.readouterr().out


def test_schema_list_entities_and_draw(user, tmp_path, monkeypatch, capsys):
    ln_setup.init(storage="./mydata")
    entities = ln_setup.schema.list_entities()
    assert entities == sorted(entities)
    assert {"lnschema_core_user", "lnschema_core_storage", "lnschema_core_file"} <= set(entities)
    assert "lnschema_core_project_folders" in entities  # many-to-many tables, too

    dot = ln_setup.schema.draw()
    assert dot.startswith("digraph schema {")
    assert '"lnschema_core_storage" -> "lnschema_core_user" [label="created_by_id"];' in dot
    assert "lnschema_core_user|id\\lemail\\l" in dot

    ln_setup.schema.draw(path="schema.dot")
    assert Path("schema.dot").read_text() == dot

    # rendering goes through Graphviz `dot`; without it the DOT text is written instead
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    ln_setup.schema.draw(path="schema.svg")
    assert not Path("schema.svg").exists()
    assert "Graphviz `dot` is not installed" in capsys.readouterr().err
    assert Path("schema.dot").read_text() == dot

    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake_dot = fake_bin / "dot"
    fake_dot.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "out = sys.argv[sys.argv.index('-o') + 1]\n"
        "open(out, 'w').write(sys.argv[1] + '\\n' + sys.stdin.read())\n"
    )
    fake_dot.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake_bin))
    ln_setup.schema.draw(path="schema.svg")
    assert Path("schema.svg").read_text() == f"-Tsvg\n{dot}"
