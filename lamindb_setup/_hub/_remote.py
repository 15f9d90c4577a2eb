"""The HTTP hub: the same operations, answered by a hub server at `LAMIN_HUB_URL`.

Only imported when that variable is set, so `requests` and `pydantic` load only then.
"""

from __future__ import annotations

import time
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from ..dev._errors import SetupError, SetupRuntimeError, SetupValueError
from . import _jwt
from ._base import Hub, InstanceRecord, StorageRecord

CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 30.0


class _InstanceAnswer(BaseModel):
    id: str
    owner: str
    name: str
    storage_root: str
    storage_region: str | None = None
    db: str | None = None
    schema_str: str | None = None


class _StorageAnswer(BaseModel):
    id: str
    root: str
    region: str | None = None
    type: str
    created_by: str | None = None


class _LoadAnswer(BaseModel):
    instance: _InstanceAnswer
    storage: _StorageAnswer


class _AddStorageAnswer(BaseModel):
    storage: _StorageAnswer


class _SignUpAnswer(BaseModel):
    password: str


class _SignInAnswer(BaseModel):
    id: str
    handle: str
    name: str | None = None
    access_token: str


def _path(*segments: str) -> str:
    return "/" + "/".join(quote(segment, safe="") for segment in segments)


def _token_expired(token: str) -> bool:
    try:
        exp = _jwt.decode(token, b"", verify=False).get("exp")
    except ValueError:
        return True
    return isinstance(exp, (int, float)) and exp <= time.time()


class RemoteHub(Hub):
    """A hub reached over HTTP; requests are authorised with the user's access token."""

    def __init__(self, url: str, access_token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self._access_token = access_token

    def __repr__(self) -> str:
        return f"RemoteHub({self.url!r})"

    # --- transport --------------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, payload: dict | None = None, token: str | None = None
    ) -> tuple[int, dict]:
        import requests

        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = requests.request(
                method,
                self.url + path,
                json=payload,
                headers=headers,
                timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
            )
        except requests.RequestException as exc:
            raise SetupRuntimeError(
                f"Cannot reach the hub at {self.url} ({type(exc).__name__}):"
                " check LAMIN_HUB_URL and that the hub server is running"
            ) from None
        if response.status_code == 204:
            return 204, {}
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or response.status_code >= 500:
            raise SetupRuntimeError(
                f"The hub at {self.url} gave an unexpected answer to {method} {path}"
                f" (HTTP {response.status_code})"
            )
        return response.status_code, body

    def _parse(self, model: type[BaseModel], body: dict, method: str, path: str):
        try:
            return model.model_validate(body)
        except ValidationError:
            raise SetupRuntimeError(
                f"The hub at {self.url} gave a malformed answer to {method} {path}"
            ) from None

    def _refused(self, method: str, path: str, status: int, body: dict) -> SetupError:
        error, detail = body.get("error"), body.get("detail")
        if status == 400 and detail:
            return SetupValueError(str(detail))
        reason = ": ".join(str(part) for part in (error, detail) if part) or "no reason given"
        return SetupRuntimeError(
            f"The hub at {self.url} refused {method} {path} ({reason}, HTTP {status})"
        )

    # --- access tokens ----------------------------------------------------------------

    def _cached_user(self) -> dict[str, str | None] | None:
        from ..dev._errors import SettingsFileError
        from ..dev._settings_load import parse_settings_file
        from ..dev._settings_store import USER_KEYS, current_user_settings_file

        path = current_user_settings_file()
        if not path.exists():
            return None
        try:
            return parse_settings_file(path, USER_KEYS, "log in again")
        except SettingsFileError:
            return None

    def _token(self, *, refresh: bool = False) -> str | None:
        """A token for the logged-in user; `refresh` signs in anew with the cached password."""
        if self._access_token and not refresh:
            return self._access_token
        user = self._cached_user()
        if user is None:
            return None
        cached = user["access_token"]
        if not refresh and cached and not _token_expired(cached):
            self._access_token = cached
            return cached
        if user["email"] and user["password"]:
            result = self.sign_in(user["email"], user["password"])
            if isinstance(result, tuple):
                return result[3]
        return None

    def _authorized_request(
        self, method: str, path: str, *, payload: dict | None = None, token: str | None = None
    ) -> tuple[int, dict]:
        token = token or self._token()
        status, body = self._request(method, path, payload=payload, token=token)
        if status == 401:
            # an expired or foreign token: sign in again once with the cached password
            fresh = self._token(refresh=True)
            if fresh and fresh != token:
                status, body = self._request(method, path, payload=payload, token=fresh)
        return status, body

    # --- accounts ---------------------------------------------------------------------

    def sign_up(self, email: str) -> str:
        path = "/signup"
        status, body = self._request("POST", path, payload={"email": email})
        if status in (200, 201):
            return self._parse(_SignUpAnswer, body, "POST", path).password
        if body.get("error") in ("user-exists", "handle-exists"):
            return body["error"]
        raise self._refused("POST", path, status, body)

    def sign_in(
        self, email: str, password: str, handle: str | None = None
    ) -> tuple[str, str, str | None, str] | str:
        path = "/signin"
        payload = {"email": email, "password": password, "handle": handle}
        status, body = self._request("POST", path, payload=payload)
        if status == 200:
            answer = self._parse(_SignInAnswer, body, "POST", path)
            self._access_token = answer.access_token
            return answer.id, answer.handle, answer.name, answer.access_token
        if body.get("error") in ("could-not-login", "complete-signup"):
            return body["error"]
        raise self._refused("POST", path, status, body)

    # --- instances and storages -------------------------------------------------------

    def init_instance(
        self,
        *,
        owner: str,
        name: str,
        storage: str,
        db: str | None = None,
        schema: str | None = None,
        storage_region: str | None = None,
    ) -> str | None:
        path = "/instances"
        payload = {
            "owner": owner,
            "name": name,
            "storage": storage,
            "db": db,
            "schema": schema,
            "storage_region": storage_region,
        }
        status, body = self._authorized_request("POST", path, payload=payload)
        if status in (200, 201):
            return None
        error = body.get("error")
        if status == 400 or not isinstance(error, str):
            raise self._refused("POST", path, status, body)
        return error

    def load_instance(
        self, *, owner: str, name: str, access_token: str | None = None
    ) -> tuple[InstanceRecord, StorageRecord] | str:
        path = _path("instances", owner, name)
        # records may carry a db password: reading needs a signed-in account
        status, body = self._authorized_request("GET", path, token=access_token)
        if status == 200:
            answer = self._parse(_LoadAnswer, body, "GET", path)
            return (
                InstanceRecord(**answer.instance.model_dump()),
                StorageRecord(**answer.storage.model_dump()),
            )
        error = body.get("error")
        if status == 400 or not isinstance(error, str):
            raise self._refused("GET", path, status, body)
        return error

    def add_storage(
        self, root: str, account_handle: str, region: str | None = None
    ) -> StorageRecord:
        path = "/storages"
        payload = {"root": root, "account_handle": account_handle, "region": region}
        status, body = self._authorized_request("POST", path, payload=payload)
        if status in (200, 201):
            answer = self._parse(_AddStorageAnswer, body, "POST", path)
            return StorageRecord(**answer.storage.model_dump())
        raise self._refused("POST", path, status, body)

    def delete_instance(self, owner: str, name: str) -> None:
        path = _path("instances", owner, name)
        status, body = self._authorized_request("DELETE", path)
        if status in (200, 204):
            return None
        raise self._refused("DELETE", path, status, body)
