"""Local SQLite instances: init, load, close, delete, info, register, schema, migrate."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

import lamindb_setup as ln_setup
from lamindb_setup._settings import settings


def lamin_dir() -> Path:
    return Path.home() / ".lamin"


def instance_files() -> list[str]:
    if not lamin_dir().exists():
        return []
    return sorted(p.name for p in lamin_dir().iterdir() if "instance" in p.name)


def read_env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def query(sqlite_file: Path, sql: str, *params) -> list[tuple]:
    """Rows of `sql` on a SQLite file, read with the standard library (not Django)."""
    conn = sqlite3.connect(f"file:{sqlite_file}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture
def mydata(user, shared_cache, monkeypatch) -> Path:
    """`lamin init --storage ./mydata` done by `testuser1`; yields the storage folder.

    Tests that call `init` themselves keep the fresh cache of the `home` fixture,
    so they run all migrations.
    """
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared_cache))
    assert ln_setup.init(storage="./mydata") is None
    return Path.cwd().resolve() / "mydata"


# --- init ------------------------------------------------------------------------------


def test_init_needs_storage(user):
    with pytest.raises(TypeError):
        ln_setup.init()


def test_init_without_login_creates_nothing(home):
    with pytest.raises(RuntimeError, match="login"):
        ln_setup.init(storage="./mydata")
    assert not Path("mydata").exists()
    assert instance_files() == []


def test_init_with_user_not_logged_in_creates_nothing(home):
    # a user file without id, as left by a signup whose login failed
    lamin_dir().mkdir()
    (lamin_dir() / "current_user.env").write_text(
        "email=a@b.org\npassword=pw\naccess_token=null\nid=null\nhandle=null\nname=null\n"
    )
    with pytest.raises(RuntimeError, match="Need to login"):
        ln_setup.init(storage="./mydata")
    assert not Path("mydata").exists()
    assert instance_files() == []


def test_init_local_sqlite(user, capsys):
    assert ln_setup.init(storage="./mydata") is None
    root = Path.cwd().resolve() / "mydata"
    out = capsys.readouterr().out
    assert "Not registering local instance on hub" in out
    assert "Loaded instance: testuser1/mydata" in out

    isettings = settings.instance
    assert isettings.name == "mydata"
    assert isettings.owner == "testuser1"
    assert isettings.db == f"sqlite:///{root}/mydata.lndb"
    assert isettings.dialect == "sqlite"
    assert isettings.is_remote is False
    assert isettings.schema == set()
    assert settings.storage.root == root
    assert settings.storage.type == "local"
    assert os.environ["LAMINDB_INSTANCE_LOADED"] == "1"

    instance_file = lamin_dir() / "instance--testuser1--mydata.env"
    assert instance_file.read_text() == (lamin_dir() / "current_instance.env").read_text()
    assert read_env(instance_file) == {
        "owner": "testuser1",
        "name": "mydata",
        "storage_root": str(root),
        "storage_region": "null",
        "db": "null",
        "schema_str": "null",
    }

    sqlite_file = root / "mydata.lndb"
    assert sqlite_file.is_file()
    tables = {row[0] for row in query(sqlite_file, "SELECT name FROM sqlite_master")}
    for model in ("user", "storage", "transform", "run", "file", "folder", "project"):
        assert f"lnschema_core_{model}" in tables
    assert query(sqlite_file, "SELECT id, email, handle FROM lnschema_core_user") == [
        (user.id, "testuser1@lamin.ai", "testuser1")
    ]
    storages = query(sqlite_file, "SELECT id, root, type, created_by_id FROM lnschema_core_storage")
    assert [row[1:] for row in storages] == [(str(root), "local", user.id)]
    assert settings.storage.id == storages[0][0]


def test_init_with_name(user):
    assert ln_setup.init(storage="./mydata", name="My-Inst") is None
    assert settings.instance.name == "my-inst"  # lower-cased
    assert Path("mydata/my-inst.lndb").is_file()
    assert not Path("mydata/mydata.lndb").exists()
    assert instance_files() == ["current_instance.env", "instance--testuser1--my-inst.env"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"storage": "./x", "name": "a/b"},
        {"storage": "./x", "name": ".."},
        {"storage": "./x", "name": "has space"},
        {"storage": "./x", "name": ""},
        {"storage": "./x", "name": ".hidden"},
        {"storage": "./.hidden"},  # name from the folder
        {"storage": "./My Data"},
    ],
)
def test_init_invalid_name_creates_nothing(user, kwargs):
    with pytest.raises(ValueError, match="--name"):
        ln_setup.init(**kwargs)
    assert not Path(kwargs["storage"]).exists()
    assert instance_files() == []


def test_init_unknown_schema_module(user):
    with pytest.raises(ValueError, match="xyz1"):
        ln_setup.init(storage="./mydata", schema="bionty, xyz1")
    assert not Path("mydata").exists()
    assert instance_files() == []


def test_init_existing_instance_loads_it(mydata, capsys):
    from lnschema_core.models import Transform

    Transform.objects.create(name="kept")
    inode = (mydata / "mydata.lndb").stat().st_ino
    ln_setup.close()
    capsys.readouterr()

    assert ln_setup.init(storage="./mydata") is None
    assert "exists already" in capsys.readouterr().out
    assert (mydata / "mydata.lndb").stat().st_ino == inode
    assert query(mydata / "mydata.lndb", "SELECT name FROM lnschema_core_transform") == [("kept",)]
    assert len(query(mydata / "mydata.lndb", "SELECT id FROM lnschema_core_storage")) == 1
    assert settings.instance.identifier == "testuser1/mydata"


# --- close and load ------------------------------------------------------------------


def test_close(mydata, capsys):
    capsys.readouterr()
    assert ln_setup.close() is None
    assert "Closed testuser1/mydata" in capsys.readouterr().out
    assert not (lamin_dir() / "current_instance.env").exists()
    assert (lamin_dir() / "instance--testuser1--mydata.env").exists()
    assert not settings._instance_exists
    with pytest.raises(RuntimeError, match="No instance is loaded"):
        settings.instance  # noqa: B018

    ln_setup.close()
    assert "No instance loaded" in capsys.readouterr().out


@pytest.mark.parametrize(
    "identifier", ["mydata", "testuser1/mydata", "https://lamin.ai/testuser1/mydata"]
)
def test_load(mydata, identifier, monkeypatch):
    ln_setup.close()
    monkeypatch.delenv("LAMINDB_INSTANCE_LOADED")

    assert ln_setup.load(identifier) is None
    assert os.environ["LAMINDB_INSTANCE_LOADED"] == "1"
    assert settings.instance.identifier == "testuser1/mydata"
    current = lamin_dir() / "current_instance.env"
    assert current.read_text() == (lamin_dir() / "instance--testuser1--mydata.env").read_text()
    assert settings.instance.db == f"sqlite:///{mydata}/mydata.lndb"


def test_load_unknown_instance(user, capsys):
    assert ln_setup.load("nope") == "instance-not-reachable"
    assert "testuser1/nope" in capsys.readouterr().err
    assert instance_files() == []


def test_load_moved_storage(mydata):
    ln_setup.close()
    moved = mydata.parent / "moved"
    mydata.rename(moved)

    with pytest.raises(RuntimeError, match="Storage root does not exist") as excinfo:
        ln_setup.load("mydata")
    assert "--storage" in str(excinfo.value)
    assert not (lamin_dir() / "current_instance.env").exists()

    assert ln_setup.load("mydata", storage="./moved") is None
    assert settings.storage.root == moved
    assert settings.instance.db == f"sqlite:///{moved}/mydata.lndb"
    assert read_env(lamin_dir() / "instance--testuser1--mydata.env")["storage_root"] == str(moved)
    assert read_env(lamin_dir() / "current_instance.env")["storage_root"] == str(moved)
    roots = query(moved / "mydata.lndb", "SELECT root FROM lnschema_core_storage")
    assert roots == [(str(moved),)]
    assert not mydata.exists()  # nothing recreated at the old place

    # the next load needs no --storage
    ln_setup.close()
    assert ln_setup.load("mydata") is None
    assert settings.storage.root == moved


# --- delete ----------------------------------------------------------------------------


def test_delete_loaded_instance_keeps_user_files(mydata, capsys):
    (mydata / "notes.txt").write_text("my data")
    capsys.readouterr()

    assert ln_setup.delete("mydata") is None
    assert instance_files() == []
    assert not (mydata / "mydata.lndb").exists()
    assert (mydata / "notes.txt").read_text() == "my data"
    assert not settings._instance_exists
    assert str(mydata) in capsys.readouterr().out  # the root to clean up by hand


def test_delete_other_instance_keeps_current(mydata):
    assert ln_setup.init(storage="./other") is None
    assert ln_setup.delete("mydata") is None
    assert instance_files() == ["current_instance.env", "instance--testuser1--other.env"]
    assert not (mydata / "mydata.lndb").exists()
    assert Path("other/other.lndb").is_file()
    assert settings.instance.name == "other"


def test_delete_unknown_instance(user, capsys):
    assert ln_setup.delete("nope") is None
    assert "nope" in capsys.readouterr().err


# --- info, set, register ---------------------------------------------------------------


def test_info_without_instance(user, capsys):
    ln_setup.info()
    out = capsys.readouterr().out
    assert "Current user: testuser1" in out
    assert "No instance loaded: lamin load <instance>" in out
    assert user.password not in out


def test_info_with_instance(mydata, capsys):
    capsys.readouterr()
    ln_setup.info()
    out = capsys.readouterr().out
    assert "Current user: testuser1" in out
    assert "Current instance: testuser1/mydata" in out
    assert f"- storage root: {mydata}" in out
    assert f"- db: sqlite:///{mydata}/mydata.lndb" in out
    assert settings.user.password not in out


def test_set_storage_on_sqlite_fails(mydata, capsys):
    before = (lamin_dir() / "current_instance.env").read_text()
    assert ln_setup.set.storage("./elsewhere") == "set-storage-failed"
    assert "sqlite" in capsys.readouterr().err
    assert (lamin_dir() / "current_instance.env").read_text() == before
    assert not Path("elsewhere").exists()


def test_register_local_instance(mydata, capsys):
    from lamindb_setup._hub import get_hub

    hub = get_hub()
    assert hub.load_instance(owner="testuser1", name="mydata") == "instance-not-reachable"

    assert ln_setup.register() is None
    instance, storage = hub.load_instance(owner="testuser1", name="mydata")
    assert (instance.owner, instance.name, instance.db) == ("testuser1", "mydata", None)
    assert storage.root == str(mydata)
    assert storage.type == "local"

    capsys.readouterr()
    assert ln_setup.register() is None  # a second time only says so
    assert "already" in capsys.readouterr().out


# --- schema and migrations -------------------------------------------------------------


def test_schema_list_entities(mydata):
    entities = ln_setup.schema.list_entities()
    for table in ("lnschema_core_user", "lnschema_core_storage", "lnschema_core_file"):
        assert table in entities
    assert "lnschema_core_run" in entities
    assert not any(name.startswith(("auth_", "django_content")) for name in entities)


def test_schema_draw(mydata, tmp_path):
    dot = ln_setup.schema.draw()
    assert dot.startswith("digraph")
    assert '"lnschema_core_file" -> "lnschema_core_storage"' in dot
    assert '"lnschema_core_run" -> "lnschema_core_transform"' in dot
    target = tmp_path / "schema.dot"
    ln_setup.schema.draw(target)
    assert target.read_text() == dot


def test_migrate_deploy_up_to_date(mydata):
    assert ln_setup.migrate.deploy() == "migrate-unnecessary"


# --- two instances in one process (SPEC §7) -------------------------------------------


def test_second_instance_in_same_process_gets_its_own_rows(user):
    assert ln_setup.init(storage="./a") is None
    assert ln_setup.init(storage="./b") is None
    from lnschema_core.models import Transform

    Transform.objects.create(name="only in b")

    a_file, b_file = Path("a/a.lndb").resolve(), Path("b/b.lndb").resolve()
    assert query(b_file, "SELECT name FROM lnschema_core_transform") == [("only in b",)]
    assert query(a_file, "SELECT name FROM lnschema_core_transform") == []

    # back to a: Django follows
    assert ln_setup.load("a") is None
    assert Transform.objects.count() == 0
    Transform.objects.create(name="only in a")
    assert query(a_file, "SELECT name FROM lnschema_core_transform") == [("only in a",)]
    assert query(b_file, "SELECT name FROM lnschema_core_transform") == [("only in b",)]


def test_sqlite_files_get_the_same_permissions(user):
    umask = os.umask(0)
    os.umask(umask)
    assert ln_setup.init(storage="./a") is None  # migrates, then caches a template
    assert ln_setup.init(storage="./b") is None  # copies the template
    expected = 0o666 & ~umask
    assert stat.S_IMODE(Path("a/a.lndb").stat().st_mode) == expected
    assert stat.S_IMODE(Path("b/b.lndb").stat().st_mode) == expected
