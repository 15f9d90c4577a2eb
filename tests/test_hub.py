"""The embedded hub: accounts, the instance registry, tokens, and concurrent use."""

from __future__ import annotations

import base64
import json
import os
import stat
import string
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from lamindb_setup._hub import EmbeddedHub, InstanceRecord, StorageRecord, _jwt, get_hub
from lamindb_setup.dev._settings_store import settings_dir

REPO = Path(__file__).resolve().parents[1]
BASE62 = set(string.digits + string.ascii_letters)


@pytest.fixture
def hub(tmp_path) -> EmbeddedHub:
    return EmbeddedHub(tmp_path / "hub")


def token_payload(token: str) -> dict:
    """The payload of a JWT, read by hand: no library, no signature check."""
    segment = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def run_python(code: str, **env: str) -> subprocess.Popen:
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
    )


# --- accounts -------------------------------------------------------------------------


def test_sign_up_generates_a_password(hub):
    password = hub.sign_up("testuser1@lamin.ai")
    assert len(password) == 40
    assert set(password) <= BASE62


def test_sign_up_refuses_existing_email_and_handle(hub):
    hub.sign_up("testuser1@lamin.ai")
    assert hub.sign_up("testuser1@lamin.ai") == "user-exists"
    assert hub.sign_up("TestUser1@lamin.ai") == "user-exists"
    assert hub.sign_up("testuser1@other.org") == "handle-exists"


def test_sign_up_rejects_an_address_without_at(hub):
    from lamindb_setup.dev._errors import SetupValueError

    with pytest.raises(SetupValueError, match="Invalid email"):
        hub.sign_up("testuser1")


def test_sign_in_right_after_sign_up(hub):
    password = hub.sign_up("testuser1@lamin.ai")
    account_id, handle, name, token = hub.sign_in("testuser1@lamin.ai", password)
    assert len(account_id) == 8 and set(account_id) <= BASE62
    assert handle == "testuser1"
    assert name is None
    payload = token_payload(token)
    assert payload["email"] == "testuser1@lamin.ai"
    assert payload["handle"] == "testuser1"
    assert payload["sub"] == account_id
    assert payload["exp"] - payload["iat"] == 7 * 24 * 3600
    # the same account every time
    assert hub.sign_in("testuser1@lamin.ai", password)[0] == account_id
    assert hub.verify_access_token(token)["sub"] == account_id


def test_sign_in_with_wrong_password_or_unknown_email(hub):
    password = hub.sign_up("testuser1@lamin.ai")
    assert hub.sign_in("testuser1@lamin.ai", password[:-1] + "x") == "could-not-login"
    assert hub.sign_in("testuser1@lamin.ai", "") == "could-not-login"
    assert hub.sign_in("nobody@lamin.ai", password) == "could-not-login"


def test_passwords_are_not_stored_in_clear(hub):
    password = hub.sign_up("testuser1@lamin.ai")
    token = hub.sign_in("testuser1@lamin.ai", password)[3]
    for path in hub.directory.iterdir():
        content = path.read_bytes()
        assert password.encode() not in content, path
        assert token.encode() not in content, path
    assert b"scrypt$" in (hub.directory / "hub.sqlite3").read_bytes()


def test_registry_files_are_private(hub):
    hub.sign_in("testuser1@lamin.ai", hub.sign_up("testuser1@lamin.ai"))
    for name in ("hub.sqlite3", "hub-secret"):
        assert stat.S_IMODE((hub.directory / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE(hub.directory.stat().st_mode) == 0o700


def test_tokens_of_another_hub_or_tampered_ones_are_refused(tmp_path, hub):
    other = EmbeddedHub(tmp_path / "other")
    token = other.sign_in("testuser1@lamin.ai", other.sign_up("testuser1@lamin.ai"))[3]
    hub.sign_up("testuser1@lamin.ai")
    with pytest.raises(ValueError):
        hub.verify_access_token(token)
    header, payload, signature = token.split(".")
    forged = dict(token_payload(token), handle="admin")
    forged_segment = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    with pytest.raises(ValueError, match="signature"):
        other.verify_access_token(f"{header}.{forged_segment}.{signature}")
    assert other.verify_access_token(token)["handle"] == "testuser1"


def test_jwt_round_trip_expiry_and_algorithm():
    key = b"k" * 32
    token = _jwt.encode({"sub": "a", "exp": time.time() + 60}, key)
    assert _jwt.decode(token, key)["sub"] == "a"
    with pytest.raises(ValueError, match="signature"):
        _jwt.decode(token, b"x" * 32)
    expired = _jwt.encode({"sub": "a", "exp": time.time() - 1}, key)
    with pytest.raises(ValueError, match="expired"):
        _jwt.decode(expired, key)
    assert _jwt.decode(expired, key, verify=False)["sub"] == "a"
    unsigned = ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in ({"alg": "none"}, {"sub": "a"})
    )
    with pytest.raises(ValueError):
        _jwt.decode(unsigned + ".", key)
    with pytest.raises(ValueError):
        _jwt.decode("not-a-token", key)


# --- instances and storages -----------------------------------------------------------


def test_init_load_delete_instance(hub):
    password = hub.sign_up("testuser1@lamin.ai")
    result = hub.init_instance(
        owner="testuser1",
        name="mydata",
        storage="s3://lamin-bucket/",
        db="postgresql://u:p@db.example.org:5432/mydata",
        schema="bionty,lamin1",
        storage_region="eu-central-1",
    )
    assert result is None
    instance, storage = hub.load_instance(owner="testuser1", name="mydata")
    assert isinstance(instance, InstanceRecord) and isinstance(storage, StorageRecord)
    assert (instance.owner, instance.name) == ("testuser1", "mydata")
    assert instance.db == "postgresql://u:p@db.example.org:5432/mydata"
    assert instance.schema_str == "bionty,lamin1"
    assert instance.storage_root == storage.root == "s3://lamin-bucket"
    assert instance.storage_region == storage.region == "eu-central-1"
    assert storage.type == "s3"
    assert len(instance.id) == 12
    # created by the owner's account id, not by the handle
    assert storage.created_by == hub.sign_in("testuser1@lamin.ai", password)[0]

    again = hub.init_instance(owner="testuser1", name="mydata", storage="./other")
    assert again == "instance-exists-already"

    hub.delete_instance("testuser1", "mydata")
    assert hub.load_instance(owner="testuser1", name="mydata") == "instance-not-reachable"
    hub.delete_instance("testuser1", "mydata")  # missing: nothing happens
    assert hub.init_instance(owner="testuser1", name="mydata", storage="./other") is None


def test_unknown_owner_or_instance(hub):
    assert hub.init_instance(owner="nobody", name="x", storage="/tmp/x") == "account-not-exists"
    assert hub.load_instance(owner="nobody", name="x") == "account-not-exists"
    hub.sign_up("testuser1@lamin.ai")
    assert hub.load_instance(owner="testuser1", name="x") == "instance-not-reachable"
    hub.delete_instance("nobody", "x")


def test_same_name_for_two_owners(hub):
    hub.sign_up("testuser1@lamin.ai")
    hub.sign_up("testuser2@lamin.ai")
    assert hub.init_instance(owner="testuser1", name="shared", storage="/data/one") is None
    assert hub.init_instance(owner="testuser2", name="shared", storage="/data/two") is None
    assert hub.load_instance(owner="testuser2", name="shared")[0].storage_root == "/data/two"
    hub.delete_instance("testuser1", "shared")
    assert hub.load_instance(owner="testuser2", name="shared")[0].name == "shared"


def test_add_storage_is_idempotent(hub):
    hub.sign_up("testuser1@lamin.ai")
    first = hub.add_storage("s3://lamin-bucket/folder", "testuser1")
    assert first.type == "s3" and first.region is None and len(first.id) == 8
    second = hub.add_storage("s3://lamin-bucket/folder/", "testuser1", region="us-east-1")
    assert second.id == first.id
    assert second.region == "us-east-1"
    assert hub.add_storage("s3://lamin-bucket/folder", "testuser1").region == "us-east-1"
    local = hub.add_storage("/data/local", "testuser1")
    assert local.type == "local" and local.id != first.id
    # an instance on a registered root reuses its storage
    hub.init_instance(owner="testuser1", name="inst", storage="/data/local")
    assert hub.load_instance(owner="testuser1", name="inst")[1].id == local.id


# --- choosing the hub -----------------------------------------------------------------


def test_get_hub_defaults_to_the_settings_dir(home):
    hub = get_hub()
    assert isinstance(hub, EmbeddedHub)
    assert hub.directory == settings_dir() == home / ".lamin"
    hub.sign_up("testuser1@lamin.ai")
    assert (home / ".lamin" / "hub.sqlite3").exists()


def test_lamin_hub_dir_shares_a_registry_between_homes(tmp_path, monkeypatch):
    shared = tmp_path / "shared-hub"
    monkeypatch.setenv("LAMIN_HUB_DIR", str(shared))
    monkeypatch.setenv("HOME", str(tmp_path / "home1"))
    password = get_hub().sign_up("testuser1@lamin.ai")
    assert get_hub().init_instance(owner="testuser1", name="team", storage="/data/team") is None

    monkeypatch.setenv("HOME", str(tmp_path / "home2"))  # "another machine"
    hub = get_hub()
    assert isinstance(hub, EmbeddedHub) and hub.directory == shared
    assert hub.sign_in("testuser1@lamin.ai", password)[1] == "testuser1"
    assert hub.load_instance(owner="testuser1", name="team")[0].storage_root == "/data/team"
    assert not (tmp_path / "home2" / ".lamin" / "hub.sqlite3").exists()


# --- concurrent use -------------------------------------------------------------------


def test_threads_signing_up_the_same_email(tmp_path):
    results: list[str] = []
    barrier = threading.Barrier(8)

    def sign_up() -> None:
        hub = EmbeddedHub(tmp_path / "hub")
        barrier.wait()
        results.append(hub.sign_up("testuser1@lamin.ai"))

    threads = [threading.Thread(target=sign_up) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [result for result in results if len(result) == 40]
    assert len(results) == 8
    assert len(winners) == 1
    assert sorted(set(results) - set(winners)) == ["user-exists"]


def test_processes_signing_up_the_same_email(tmp_path):
    start_at = time.time() + 2.0
    code = f"""
        import time
        from pathlib import Path
        from lamindb_setup._hub import EmbeddedHub
        hub = EmbeddedHub(Path({str(tmp_path / "hub")!r}))
        time.sleep(max(0.0, {start_at} - time.time()))
        print(hub.sign_up("testuser1@lamin.ai"))
    """
    processes = [run_python(code) for _ in range(4)]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        outputs.append(out.strip())
    assert sum(len(output) == 40 for output in outputs) == 1
    assert sum(output == "user-exists" for output in outputs) == 3


def test_processes_creating_the_token_key_agree_on_one(tmp_path):
    directory = tmp_path / "hub"
    password = EmbeddedHub(directory).sign_up("testuser1@lamin.ai")
    assert not (directory / "hub-secret").exists()
    start_at = time.time() + 2.0
    code = f"""
        import time
        from pathlib import Path
        from lamindb_setup._hub import EmbeddedHub
        hub = EmbeddedHub(Path({str(directory)!r}))
        time.sleep(max(0.0, {start_at} - time.time()))
        print(hub.sign_in("testuser1@lamin.ai", {password!r})[3])
    """
    processes = [run_python(code) for _ in range(6)]
    tokens = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        tokens.append(out.strip())
    key = bytes.fromhex((directory / "hub-secret").read_text())
    for token in tokens:
        assert _jwt.decode(token, key)["handle"] == "testuser1"
    assert not [p.name for p in directory.iterdir() if p.name.startswith(".hub-secret")]


# --- staying light --------------------------------------------------------------------


def test_importing_the_hub_loads_no_heavy_package():
    code = """
        import sys
        import lamindb_setup._hub
        heavy = ("requests", "pydantic", "boto3", "botocore", "django", "fsspec")
        print(",".join(name for name in heavy if name in sys.modules))
    """
    process = run_python(code)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert out.strip() == ""


def test_a_damaged_registry_gives_a_one_line_error(hub):
    from lamindb_setup.dev._errors import SetupRuntimeError

    hub.directory.mkdir(parents=True)
    (hub.directory / "hub.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(SetupRuntimeError, match="hub.sqlite3") as info:
        hub.sign_up("testuser1@lamin.ai")
    assert "\n" not in str(info.value)


def test_staging_has_its_own_embedded_hub(home, monkeypatch):
    prod = get_hub()
    assert len(prod.sign_up("same@lamin.ai")) == 40
    monkeypatch.setenv("LAMIN_ENV", "staging")
    staging = get_hub()
    assert Path(staging.directory) == home / ".lamin" / "staging-hub"
    assert len(staging.sign_up("same@lamin.ai")) == 40  # unknown there: a new account
    monkeypatch.setenv("LAMIN_ENV", "prod")
    assert get_hub().sign_up("same@lamin.ai") == "user-exists"
