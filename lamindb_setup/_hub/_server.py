"""A small HTTP hub for teams: the embedded hub of one directory, served as JSON.

    python -m lamindb_setup._hub._server --dir /srv/lamin-hub --port 8000

Clients set `LAMIN_HUB_URL=http://host:8000`. Writes need the bearer token that
`/signin` hands out; the owner of an instance is the handle in that token.
Passwords and tokens travel only in bodies and headers and are never logged.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..dev._errors import SetupValueError
from ._embedded import EmbeddedHub

MAX_BODY_BYTES = 64 * 1024

# soft errors of the hub and the HTTP status that carries them
_ERROR_STATUS = {
    "user-exists": 409,
    "handle-exists": 409,
    "instance-exists-already": 409,
    "could-not-login": 401,
    "complete-signup": 401,
    "account-not-exists": 404,
    "instance-not-reachable": 404,
}


class _HttpError(Exception):
    def __init__(self, status: int, error: str, detail: str | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = detail


def _soft_error(error: str) -> _HttpError:
    return _HttpError(_ERROR_STATUS.get(error, 400), error)


class HubServer(ThreadingHTTPServer):
    """A threading HTTP server whose handlers share one `EmbeddedHub`."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], hub: EmbeddedHub) -> None:
        self.hub = hub
        super().__init__(address, _HubRequestHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _HubRequestHandler(BaseHTTPRequestHandler):
    server: HubServer
    server_version = "lamin-hub/1"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # --- plumbing ---------------------------------------------------------------------

    def log_request(self, code="-", size="-") -> None:
        # only method, path and status: no query, headers or body ever reach the log
        path = urlsplit(self.path).path
        self.log_message("%s %s %s", self.command, path, code)

    def log_error(self, format: str, *args) -> None:
        # the default message may quote the raw request line: keep only the status
        self.log_message("rejected request (%s)", args[0] if args else "-")

    def _dispatch(self, method: str) -> None:
        try:
            status, body = self._route(method)
        except _HttpError as exc:
            status, body = exc.status, {"error": exc.error}
            if exc.detail:
                body["detail"] = exc.detail
        except SetupValueError as exc:
            status, body = 400, {"error": "invalid-argument", "detail": str(exc)}
        except Exception:
            self.log_message("internal error:\n%s", traceback.format_exc())
            status, body = 500, {"error": "internal-error"}
        self._send(status, body)

    def _send(self, status: int, body: dict | None) -> None:
        data = b"" if body is None else json.dumps(body).encode("utf-8")
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _segments(self) -> list[str]:
        path = urlsplit(self.path).path.strip("/")
        return [unquote(segment) for segment in path.split("/")] if path else []

    def _json_body(self) -> dict:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            raise _HttpError(400, "invalid-request", "bad Content-Length") from None
        if length > MAX_BODY_BYTES:
            raise _HttpError(413, "request-too-large")
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise _HttpError(400, "invalid-request", "the body is not JSON") from None
        if not isinstance(body, dict):
            raise _HttpError(400, "invalid-request", "the body is not a JSON object")
        return body

    @staticmethod
    def _field(body: dict, key: str, *, required: bool = True) -> str | None:
        value = body.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or (required and not value):
            raise _HttpError(400, "invalid-request", f"{key} must be a non-empty string")
        return value

    def _bearer_token(self) -> str | None:
        header = self.headers.get("Authorization")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _HttpError(401, "could-not-login", "expected a Bearer token")
        return token.strip()

    def _account(self, *, required: bool) -> dict | None:
        """The claims of the request's token; a token that is sent must be valid."""
        token = self._bearer_token()
        if token is None:
            if required:
                raise _HttpError(401, "could-not-login", "this request needs an access token")
            return None
        try:
            return self.server.hub.verify_access_token(token)
        except ValueError:
            raise _HttpError(
                401, "could-not-login", "the access token is invalid or expired"
            ) from None

    @staticmethod
    def _require_handle(claims: dict, handle: str) -> None:
        if claims["handle"].casefold() != handle.casefold():
            raise _HttpError(
                403, "permission-denied", f"the access token is not one of account {handle}"
            )

    # --- routes -----------------------------------------------------------------------

    def _route(self, method: str) -> tuple[int, dict | None]:
        hub = self.server.hub
        segments = self._segments()
        route = (method, segments[0] if segments else "", len(segments))
        if route == ("GET", "health", 1):
            return 200, {"status": "ok"}
        if route == ("POST", "signup", 1):
            result = hub.sign_up(self._field(self._json_body(), "email"))
            if result in ("user-exists", "handle-exists"):
                raise _soft_error(result)
            return 201, {"password": result}
        if route == ("POST", "signin", 1):
            body = self._json_body()
            result = hub.sign_in(
                self._field(body, "email"),
                self._field(body, "password"),
                self._field(body, "handle", required=False),
            )
            if isinstance(result, str):
                raise _soft_error(result)
            account_id, handle, name, token = result
            return 200, {"id": account_id, "handle": handle, "name": name, "access_token": token}
        if route == ("POST", "instances", 1):
            return self._init_instance()
        if route[1:] == ("instances", 3) and method in ("GET", "DELETE"):
            owner, name = segments[1], segments[2]
            if method == "GET":
                # instance records may carry a db password: only signed-in accounts read them
                self._account(required=True)
                result = hub.load_instance(owner=owner, name=name)
                if isinstance(result, str):
                    raise _soft_error(result)
                instance, storage = result
                return 200, {"instance": asdict(instance), "storage": asdict(storage)}
            self._require_handle(self._account(required=True), owner)
            hub.delete_instance(owner, name)
            return 204, None
        if route == ("POST", "storages", 1):
            body = self._json_body()
            handle = self._field(body, "account_handle")
            self._require_handle(self._account(required=True), handle)
            record = hub.add_storage(
                self._field(body, "root"), handle, self._field(body, "region", required=False)
            )
            return 200, {"storage": asdict(record)}
        known = {"health", "signup", "signin", "instances", "storages"}
        if segments and segments[0] in known:
            raise _HttpError(405, "method-not-allowed")
        raise _HttpError(404, "not-found")

    def _init_instance(self) -> tuple[int, dict]:
        body = self._json_body()
        owner = self._field(body, "owner")
        self._require_handle(self._account(required=True), owner)
        result = self.server.hub.init_instance(
            owner=owner,
            name=self._field(body, "name"),
            storage=self._field(body, "storage"),
            db=self._field(body, "db", required=False),
            schema=self._field(body, "schema", required=False),
            storage_region=self._field(body, "storage_region", required=False),
        )
        if result is not None:
            raise _soft_error(result)
        return 201, {}


def make_server(directory: Path, host: str = "127.0.0.1", port: int = 0) -> HubServer:
    """A hub server (not yet serving) over the embedded hub in `directory`."""
    return HubServer((host, port), EmbeddedHub(Path(directory)))


def main(argv: list[str] | None = None) -> None:
    """Serve a hub until interrupted: `--dir D [--host H] [--port P]`."""
    parser = argparse.ArgumentParser(
        prog="python -m lamindb_setup._hub._server",
        description="Serve a lamin hub (accounts and instance registry) over HTTP.",
    )
    parser.add_argument("--dir", required=True, type=Path, help="directory of the registry")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", default=8000, type=int, help="port (0: any free port)")
    args = parser.parse_args(argv)
    server = make_server(args.dir, args.host, args.port)
    print(f"Lamin hub for {args.dir} listening on {server.url}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
