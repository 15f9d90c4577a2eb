"""The HTTP hub: a hub server in a thread, reached through `get_hub()` and `LAMIN_HUB_URL`."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from lamindb_setup._hub import EmbeddedHub, InstanceRecord, StorageRecord, get_hub
from lamindb_setup._hub._remote import RemoteHub
from lamindb_setup._hub._server import make_server
from lamindb_setup.dev._errors import SetupRuntimeError, SetupValueError
from lamindb_setup.dev._settings_save import write_settings_file
from lamindb_setup.dev._settings_store import current_user_settings_file

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A hub server on a free loopback port, its registry in `tmp_path/server`."""
    server = make_server(tmp_path / "server")
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    monkeypatch.setenv("LAMIN_HUB_URL", server.url)
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def token_payload(token: str) -> dict:
    segment = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def signed_in_hub(email: str = "testuser1@lamin.ai") -> tuple[RemoteHub, str]:
    hub = get_hub()
    password = hub.sign_up(email)
    assert isinstance(hub.sign_in(email, password), tuple)
    return hub, password


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_get_hub_picks_the_http_hub(server):
    hub = get_hub()
    assert isinstance(hub, RemoteHub)
    assert hub.url == server.url
    assert requests.get(f"{server.url}/health", timeout=5).json() == {"status": "ok"}


def test_sign_up_and_sign_in(server, home):
    hub = get_hub()
    password = hub.sign_up("testuser1@lamin.ai")
    assert len(password) == 40
    assert hub.sign_up("testuser1@lamin.ai") == "user-exists"
    assert hub.sign_up("testuser1@other.org") == "handle-exists"
    account_id, handle, name, token = get_hub().sign_in("testuser1@lamin.ai", password)
    assert len(account_id) == 8 and handle == "testuser1" and name is None
    assert token_payload(token)["email"] == "testuser1@lamin.ai"
    assert get_hub().sign_in("testuser1@lamin.ai", "wrong") == "could-not-login"
    assert get_hub().sign_in("nobody@lamin.ai", password) == "could-not-login"
    with pytest.raises(SetupValueError, match="Invalid email"):
        hub.sign_up("no-at-sign")
    # the accounts live with the server, not in the client's HOME
    assert (Path(server.hub.directory) / "hub.sqlite3").exists()
    assert not (home / ".lamin" / "hub.sqlite3").exists()


def test_instance_flow(server):
    hub, _ = signed_in_hub()
    result = hub.init_instance(
        owner="testuser1",
        name="mydata",
        storage="s3://lamin-bucket",
        db="postgresql://u:p@db.example.org:5432/mydata",
        schema="bionty",
        storage_region="us-east-1",
    )
    assert result is None
    assert hub.init_instance(owner="testuser1", name="mydata", storage="/x") == (
        "instance-exists-already"
    )
    # records carry db passwords: reading needs a signed-in account
    assert get_hub().load_instance(owner="testuser1", name="mydata") == "could-not-login"
    instance, storage = get_hub().load_instance(
        owner="testuser1", name="mydata", access_token=hub._token()
    )
    assert isinstance(instance, InstanceRecord) and isinstance(storage, StorageRecord)
    assert instance.db == "postgresql://u:p@db.example.org:5432/mydata"
    assert instance.schema_str == "bionty"
    assert (storage.root, storage.region, storage.type) == ("s3://lamin-bucket", "us-east-1", "s3")
    # a valid token is accepted too
    loaded = get_hub().load_instance(owner="testuser1", name="mydata", access_token=hub._token())
    assert loaded[0] == instance
    token = hub._token()
    assert get_hub().load_instance(owner="nobody", name="mydata", access_token=token) == (
        "account-not-exists"
    )
    assert get_hub().load_instance(owner="testuser1", name="nope", access_token=token) == (
        "instance-not-reachable"
    )

    hub.delete_instance("testuser1", "mydata")
    assert hub.load_instance(owner="testuser1", name="mydata") == "instance-not-reachable"
    hub.delete_instance("testuser1", "mydata")  # missing: nothing happens


def test_names_with_odd_characters_travel_intact(server):
    hub, _ = signed_in_hub()
    assert hub.init_instance(owner="testuser1", name="my data/v1?", storage="/d") is None
    assert hub.load_instance(owner="testuser1", name="my data/v1?")[0].name == "my data/v1?"


def test_add_storage_is_idempotent(server):
    hub, _ = signed_in_hub()
    first = hub.add_storage("s3://lamin-bucket/sub", "testuser1")
    second = hub.add_storage("s3://lamin-bucket/sub/", "testuser1", region="eu-central-1")
    assert first.id == second.id and second.region == "eu-central-1"
    with pytest.raises(SetupRuntimeError, match="permission-denied"):
        hub.add_storage("/data", "someone-else")


def test_writes_need_the_owners_token(server):
    owner, _ = signed_in_hub("testuser1@lamin.ai")
    owner.init_instance(owner="testuser1", name="mydata", storage="/data")
    other, _ = signed_in_hub("testuser2@lamin.ai")

    # another account may neither register nor delete for testuser1
    assert other.init_instance(owner="testuser1", name="x", storage="/x") == "permission-denied"
    with pytest.raises(SetupRuntimeError, match="permission-denied"):
        other.delete_instance("testuser1", "mydata")
    # nobody logged in: no token at all
    anonymous = RemoteHub(server.url)
    assert anonymous.init_instance(owner="testuser1", name="y", storage="/y") == "could-not-login"
    with pytest.raises(SetupRuntimeError, match="could-not-login"):
        anonymous.delete_instance("testuser1", "mydata")
    # any signed-in account may read
    assert isinstance(other.load_instance(owner="testuser1", name="mydata"), tuple)
    assert anonymous.load_instance(owner="testuser1", name="mydata") == "could-not-login"
    # a forged token is refused, also for reads
    assert (
        get_hub().load_instance(owner="testuser1", name="mydata", access_token="a.b.c")
        == "could-not-login"
    )
    response = requests.delete(
        f"{server.url}/instances/testuser1/mydata",
        headers={"Authorization": "Bearer not-a-token"},
        timeout=5,
    )
    assert response.status_code == 401


def test_the_logged_in_users_token_is_used_and_renewed(server):
    hub = get_hub()
    password = hub.sign_up("testuser1@lamin.ai")
    account_id, handle, name, token = hub.sign_in("testuser1@lamin.ai", password)
    values = {
        "email": "testuser1@lamin.ai",
        "password": password,
        "access_token": token,
        "id": account_id,
        "handle": handle,
        "name": name,
    }
    write_settings_file(current_user_settings_file(), values)
    # a new hub object (as every verb gets) finds the token in ~/.lamin
    assert get_hub().init_instance(owner="testuser1", name="a", storage="/a") is None
    # a stale token is replaced by signing in again with the cached password
    write_settings_file(current_user_settings_file(), {**values, "access_token": "x.y.z"})
    assert get_hub().init_instance(owner="testuser1", name="b", storage="/b") is None
    get_hub().delete_instance("testuser1", "a")
    assert get_hub().load_instance(owner="testuser1", name="a") == "instance-not-reachable"
    assert isinstance(
        get_hub().load_instance(owner="testuser1", name="b", access_token="x.y.z"), tuple
    )


def test_bad_requests_get_clear_answers(server):
    response = requests.post(f"{server.url}/signup", data=b"{not json", timeout=5)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid-request"
    response = requests.post(f"{server.url}/signin", json={"email": 3}, timeout=5)
    assert response.status_code == 400
    assert requests.get(f"{server.url}/nowhere", timeout=5).status_code == 404
    assert requests.get(f"{server.url}/signup", timeout=5).status_code == 405
    too_big = {"email": "x" * (128 * 1024)}
    assert requests.post(f"{server.url}/signup", json=too_big, timeout=5).status_code == 413


def test_server_logs_no_secrets(server, capfd):
    hub, password = signed_in_hub()
    token = hub._token()
    hub.init_instance(owner="testuser1", name="mydata", storage="/data")
    hub.delete_instance("testuser1", "mydata")
    err = capfd.readouterr().err
    assert "POST /signin 200" in err
    assert "DELETE /instances/testuser1/mydata 204" in err
    assert password not in err
    assert token not in err


def test_unreachable_hub_fails_fast_naming_the_url(monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("LAMIN_HUB_URL", url)
    start = time.monotonic()
    with pytest.raises(SetupRuntimeError, match="Cannot reach the hub") as info:
        get_hub().sign_up("testuser1@lamin.ai")
    assert time.monotonic() - start < 5
    assert url in str(info.value)
    assert "\n" not in str(info.value)


def test_server_runs_as_a_module(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "lamindb_setup._hub._server", "--dir", str(tmp_path / "d")]
        + ["--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = process.stderr.readline()
        assert "listening on http://127.0.0.1:" in line, line
        url = line.rsplit(" ", 1)[-1].strip()
        password = RemoteHub(url).sign_up("testuser1@lamin.ai")
        assert len(password) == 40
        # the same registry as the embedded hub in that directory
        assert EmbeddedHub(tmp_path / "d").sign_in("testuser1@lamin.ai", password)[1] == (
            "testuser1"
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
