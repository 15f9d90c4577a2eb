"""Time whole `lamin` processes side by side and check them against the performance targets.

    python benchmarks/bench.py                      # N=10 runs, table + JSON
    python benchmarks/bench.py --quick              # N=3
    python benchmarks/bench.py --other-venv ~/venvs/lamin-orig   # also time that installation

Every command is a fresh process started with `subprocess`; a row reports the median,
min and max wall time over N runs. Each run gets a fresh temporary HOME and cache dir
(signed up once with `lamin signup`), so nothing under the real home is read or
written. The runs interleave the rows, so slow drift of the machine spreads evenly.
See benchmarks/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parent.parent
DEFAULT_JSON = REPO / "benchmarks" / "results" / "latest.json"
EMAIL = "bench@example.com"
PG_DSN = "postgresql://postgres@127.0.0.1:5432"
COMMAND_TIMEOUT = 300  # seconds; a hung command becomes a failed row, not a hung benchmark

# key -> label, in table order
ROWS = {
    "floor": "python -c pass",
    "floor_nosite": "python -S -c pass (no site; context only)",
    "import": 'python -c "import lamindb_setup"',
    "help": "lamin --help",
    "info": "lamin info (instance loaded)",
    "init_cold": "lamin init --storage <dir> (SQLite, cold cache)",
    "init_warm": "lamin init --storage <dir> (SQLite, warm cache)",
    "load": "lamin load <name> (SQLite)",
    "close": "lamin close",
    "bare_setup": "bare django.setup(), same SQLite db",
    "pg_init": "lamin init --db postgresql://...",
    "pg_load": "lamin load <name> (Postgres)",
    "s3_init": "lamin init --storage s3://<bucket>",
    "s3_sync": "lamin load <name> (S3, no change)",
    "up_upath": "upload: upath.upload_from",
    "up_s3fs": "upload: s3fs put",
    "down_upath": "download: upath.download_to",
    "down_s3fs": "download: s3fs get",
}
STATELESS_ROWS = ("floor", "floor_nosite", "import", "help")
TRANSFER_ROWS = ("up_upath", "up_s3fs", "down_upath", "down_s3fs")
# rows that need a row of the same run to have succeeded first
DEPENDS_ON = {
    "info": "init_cold",
    "close": "init_cold",
    "load": "init_cold",
    "bare_setup": "init_cold",
    "pg_load": "pg_init",
    "s3_sync": "s3_init",
}

# A bare Django setup on the instance's SQLite file: what `load` cannot avoid doing.
BARE_SETUP = """\
import sys
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["lnschema_core"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": sys.argv[1]}},
    DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    USE_TZ=True,
)
django.setup()
"""

# Upload and download one file through lamindb_setup's upath and through plain s3fs;
# prints the in-process transfer seconds as JSON. argv: bucket, file, workdir, upath_first.
TRANSFER = """\
import json, os, sys, time
bucket, source, workdir, upath_first = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
import s3fs
from lamindb_setup.dev.upath import create_path

def timed(function, *args):
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start

def via_upath():
    path = create_path(f"s3://{bucket}/upath.bin")
    path.fs.exists(bucket)  # open the session outside the timing, as for s3fs
    up = timed(path.upload_from, source)
    down = timed(path.download_to, os.path.join(workdir, "upath.bin"))
    path.fs.rm(path.path)
    return up, down

def via_s3fs():
    fs = s3fs.S3FileSystem()
    fs.exists(bucket)
    up = timed(fs.put, source, f"{bucket}/s3fs.bin")
    down = timed(fs.get, f"{bucket}/s3fs.bin", os.path.join(workdir, "s3fs.bin"))
    fs.rm(f"{bucket}/s3fs.bin")
    return up, down

result = {}
for name, function in ([("upath", via_upath), ("s3fs", via_s3fs)] if upath_first
                       else [("s3fs", via_s3fs), ("upath", via_upath)]):
    up, down = function()
    result["up_" + name], result["down_" + name] = up, down
print(json.dumps(result))
"""


# --- results ------------------------------------------------------------------------------


@dataclass
class Row:
    """Samples of one row for one implementation, or why there are none."""

    key: str
    samples: list[float] = field(default_factory=list)
    error: Optional[str] = None
    s3_requests: list[dict] = field(default_factory=list)  # per run, S3 rows only

    @property
    def median(self) -> Optional[float]:
        return statistics.median(self.samples) if self.samples else None

    def as_json(self) -> dict:
        data: dict = {"label": ROWS[self.key], "samples_s": [round(s, 4) for s in self.samples]}
        if self.samples:
            data.update(
                median_s=round(self.median, 4),
                min_s=round(min(self.samples), 4),
                max_s=round(max(self.samples), 4),
            )
        if self.error:
            data["error"] = self.error
        if self.s3_requests:
            data["s3_requests"] = self.s3_requests
        return data


@dataclass
class Implementation:
    """One installation of the `lamin` CLI: its interpreter and how to start the CLI."""

    name: str
    python: str
    lamin: list[str]
    extra_env: dict[str, str]
    drop_env: tuple[str, ...]
    rows: dict[str, Row] = field(default_factory=lambda: {key: Row(key) for key in ROWS})


def ours() -> Implementation:
    """This checkout, through the `lamin` entry point next to sys.executable if there is one."""
    entry_point = Path(sys.executable).with_name("lamin")
    lamin = [str(entry_point)] if entry_point.exists() else [sys.executable, "-m", "lamindb_setup"]
    extra_env = {}
    spec = importlib.util.find_spec("lamindb_setup")
    if spec is None or not spec.origin or REPO not in Path(spec.origin).resolve().parents:
        # not installed from this checkout: put the checkout first on the path
        extra_env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(REPO), os.environ.get("PYTHONPATH")])
        )
        lamin = [sys.executable, "-m", "lamindb_setup"]
    return Implementation("ours", sys.executable, lamin, extra_env, drop_env=())


def other(venv: Path) -> Implementation:
    """The installation in another virtualenv: its bin/python and bin/lamin."""
    bin_dir = venv.resolve() / "bin"
    for exe in ("python", "lamin"):
        if not (bin_dir / exe).exists():
            sys.exit(f"--other-venv: {bin_dir / exe} does not exist")
    path = os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")])
    extra_env = {"PATH": path, "VIRTUAL_ENV": str(venv.resolve())}
    # never let our checkout leak into the other interpreter
    return Implementation(
        "other", str(bin_dir / "python"), [str(bin_dir / "lamin")], extra_env, ("PYTHONPATH",)
    )


# --- running one process ------------------------------------------------------------------


class CommandFailed(Exception):
    """A process exited non-zero; the message is the line of its output that says why."""


def _error_line(stderr: str, stdout: str, returncode: int) -> str:
    lines = [line.strip() for line in (stderr or stdout).splitlines() if line.strip()]
    if not lines:
        return f"exit code {returncode}"
    if lines[0].startswith("Traceback"):
        return lines[-1]  # the exception, not the traceback header
    return lines[0]


def run_process(argv: list[str], env: dict, cwd: Path) -> tuple[float, str]:
    """Run one process; give its wall time and stdout, raise `CommandFailed` on failure."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise CommandFailed(f"timed out after {COMMAND_TIMEOUT} s") from None
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise CommandFailed(_error_line(done.stderr, done.stdout, done.returncode))
    return seconds, done.stdout


def fresh_env(impl: Implementation, run_dir: Path, extra: Optional[dict] = None) -> dict:
    """The environment of a run: HOME and XDG dirs inside `run_dir`, no LAMIN_/AWS_ leaks."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LAMIN_", "AWS_", "DJANGO_")) and key not in impl.drop_env
    }
    home = run_dir / "home"
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(run_dir / "cache"),
        XDG_CONFIG_HOME=str(run_dir / "config"),
        XDG_DATA_HOME=str(run_dir / "data"),
    )
    env.update(impl.extra_env)
    env.update(extra or {})
    return env


# --- servers ------------------------------------------------------------------------------


class PostgresServer:
    """Creates and drops one database per run on a trust-auth server."""

    def __init__(self, dsn: str):
        self.dsn = dsn.rstrip("/")

    def check(self) -> Optional[str]:
        """None if the server answers, else why not."""
        try:
            import psycopg
        except ImportError:
            return "psycopg is not installed"
        try:
            psycopg.connect(f"{self.dsn}/postgres", connect_timeout=3).close()
        except Exception as exc:  # any failure means: no server to benchmark against
            return f"no Postgres server at {self.dsn} ({str(exc).splitlines()[0]})"
        return None

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.dsn}/postgres", autocommit=True) as conn:
            conn.execute(sql)

    def create(self, name: str) -> str:
        self._execute(f'CREATE DATABASE "{name}"')
        return f"{self.dsn}/{name}"

    def drop(self, name: str) -> None:
        with contextlib.suppress(Exception):
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class S3Server:
    """A moto S3 server in this process that also counts the requests it serves."""

    def __init__(self):
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self._lock = threading.Lock()
        self._requests: list[tuple[str, str]] = []
        # werkzeug looks the app up on every request, so wrapping it counts everything
        wsgi_server = getattr(self._server, "_server", None)
        self.counting = wsgi_server is not None and hasattr(wsgi_server, "app")
        if self.counting:
            wsgi_server.app = self._counted(wsgi_server.app)

    def _counted(self, app: Callable) -> Callable:
        def counting_app(environ, start_response):
            query = environ.get("QUERY_STRING", "")
            target = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
            with self._lock:
                self._requests.append((environ.get("REQUEST_METHOD", "?"), target))
            return app(environ, start_response)

        return counting_app

    @property
    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def mark(self) -> int:
        with self._lock:
            return len(self._requests)

    def requests_since(self, mark: int) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._requests[mark:])

    def create_bucket(self, name: str) -> None:
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=name)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._server.stop()


def summarize_requests(requests: list[tuple[str, str]], instance_name: str) -> dict:
    """Count S3 requests by method, and the GETs of the instance's SQLite file (downloads)."""
    sqlite_name = f"{instance_name}.lndb"
    by_method: dict[str, int] = {}
    for method, _ in requests:
        by_method[method] = by_method.get(method, 0) + 1
    downloads = sum(
        1
        for method, target in requests
        if method == "GET" and target.split("?")[0].endswith(sqlite_name)
    )
    return {
        "total": len(requests),
        "by_method": by_method,
        "sqlite_downloads": downloads,
        "requests": [f"{method} {target}" for method, target in requests],
    }


# --- one run of the suite -----------------------------------------------------------------


class Suite:
    """Runs every row once per run for each implementation and collects the samples."""

    def __init__(self, args, root: Path, implementations, postgres, s3, notes):
        self.args = args
        self.root = root
        self.implementations = implementations
        self.postgres = postgres
        self.s3 = s3
        self.notes = notes
        self.transfer_file: Optional[Path] = None

    def _log(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def _time(self, impl, key, argv, env, cwd, ok_in_run: set) -> Optional[str]:
        """Time `argv` into row `key`; gives stdout, or None when it failed or was skipped."""
        row = impl.rows[key]
        if row.error is not None:
            return None
        dependency = DEPENDS_ON.get(key)
        if dependency is not None and dependency not in ok_in_run:
            return None
        try:
            seconds, stdout = run_process(argv, env, cwd)
        except CommandFailed as exc:
            row.error = f"failed: {exc}"
            self._log(f"  {impl.name} {key}: {row.error}")
            return None
        row.samples.append(seconds)
        ok_in_run.add(key)
        return stdout

    def _untimed(self, impl, what, argv, env, cwd, rows: tuple[str, ...]) -> bool:
        """Run a preparation step; when it fails, the rows that need it fail with its error."""
        try:
            run_process(argv, env, cwd)
        except CommandFailed as exc:
            for key in rows:
                if impl.rows[key].error is None:
                    impl.rows[key].error = f"failed: {what}: {exc}"
            self._log(f"  {impl.name} {what}: {exc}")
            return False
        return True

    def run(self, index: int) -> None:
        # alternate the order, so neither implementation always meets the busier machine
        order = self.implementations if index % 2 == 0 else self.implementations[::-1]
        for impl in order:
            run_dir = self.root / impl.name / f"run{index}"
            run_dir.mkdir(parents=True)
            try:
                self._run_one(impl, run_dir, index)
            finally:
                shutil.rmtree(run_dir, ignore_errors=True)

    def _run_one(self, impl, run_dir, index) -> None:
        ok: set[str] = set()
        self._stateless(impl, run_dir, ok)
        stateful = tuple(key for key in ROWS if key not in (*STATELESS_ROWS, *TRANSFER_ROWS))
        env = fresh_env(impl, run_dir)
        # when every stateful row failed already (e.g. signup in an earlier run), do not retry
        signed_up = not all(impl.rows[key].error is not None for key in stateful)
        if signed_up:
            argv = [*impl.lamin, "signup", EMAIL]
            signed_up = self._untimed(impl, "signup", argv, env, run_dir, stateful)
        if signed_up:
            self._local(impl, run_dir, env, ok)
            if self.postgres is not None:
                self._postgres(impl, run_dir, env, ok, index)
        if self.s3 is not None:
            self._s3(impl, run_dir, ok, index, signed_up)

    def _stateless(self, impl, run_dir, ok) -> None:
        env = fresh_env(impl, run_dir)
        self._time(impl, "floor", [impl.python, "-c", "pass"], env, run_dir, ok)
        self._time(impl, "floor_nosite", [impl.python, "-S", "-c", "pass"], env, run_dir, ok)
        self._time(impl, "import", [impl.python, "-c", "import lamindb_setup"], env, run_dir, ok)
        self._time(impl, "help", [*impl.lamin, "--help"], env, run_dir, ok)

    def _local(self, impl, run_dir, env, ok) -> None:
        lamin = impl.lamin
        first, second = run_dir / "benchdata", run_dir / "benchwarm"
        # the cache dir is fresh, so this init builds the template database
        self._time(impl, "init_cold", [*lamin, "init", "--storage", str(first)], env, run_dir, ok)
        self._time(impl, "info", [*lamin, "info"], env, run_dir, ok)
        self._time(impl, "close", [*lamin, "close"], env, run_dir, ok)
        self._time(impl, "init_warm", [*lamin, "init", "--storage", str(second)], env, run_dir, ok)
        self._untimed(impl, "close", [*lamin, "close"], env, run_dir, ("load",))
        self._time(impl, "load", [*lamin, "load", first.name], env, run_dir, ok)
        if impl.name == "ours":
            sqlite_file = first / f"{first.name}.lndb"
            argv = [impl.python, "-c", BARE_SETUP, str(sqlite_file)]
            self._time(impl, "bare_setup", argv, env, run_dir, ok)
        self._untimed(impl, "close", [*lamin, "close"], env, run_dir, ())

    def _postgres(self, impl, run_dir, env, ok, index) -> None:
        if impl.rows["pg_init"].error is not None:
            return
        database = f"lamin_bench_{impl.name}_{index}_{secrets.token_hex(3)}"
        try:
            url = self.postgres.create(database)
        except Exception as exc:
            impl.rows["pg_init"].error = f"failed: create database: {str(exc).splitlines()[0]}"
            return
        try:
            argv = [*impl.lamin, "init", "--storage", str(run_dir / "pgdata"), "--db", url]
            self._time(impl, "pg_init", argv, env, run_dir, ok)
            self._untimed(impl, "close", [*impl.lamin, "close"], env, run_dir, ("pg_load",))
            self._time(impl, "pg_load", [*impl.lamin, "load", database], env, run_dir, ok)
            self._untimed(impl, "close", [*impl.lamin, "close"], env, run_dir, ())
        finally:
            self.postgres.drop(database)

    def _s3(self, impl, run_dir, ok, index, signed_up) -> None:
        env = fresh_env(impl, run_dir, self.s3.env)
        lamin = impl.lamin
        bucket = f"lamin-bench-{impl.name}-{index}-{secrets.token_hex(3)}"
        try:
            self.s3.create_bucket(bucket)
        except Exception as exc:
            for key in ("s3_init", "s3_sync", *TRANSFER_ROWS):
                impl.rows[key].error = f"failed: create bucket: {str(exc).splitlines()[0]}"
            return
        if signed_up:
            for key, argv in (
                ("s3_init", [*lamin, "init", "--storage", f"s3://{bucket}"]),
                # loading the instance just initialized: the cache copy is up to date
                ("s3_sync", [*lamin, "load", bucket]),
            ):
                mark = self.s3.mark()
                timed = self._time(impl, key, argv, env, run_dir, ok) is not None
                if timed and self.s3.counting:
                    requests = self.s3.requests_since(mark)
                    impl.rows[key].s3_requests.append(summarize_requests(requests, bucket))
            self._untimed(impl, "close", [*lamin, "close"], env, run_dir, ())
        if index < self.args.transfer_runs:
            self._transfers(impl, run_dir, env, bucket, index)

    def _transfers(self, impl, run_dir, env, bucket, index) -> None:
        if any(impl.rows[key].error is not None for key in TRANSFER_ROWS):
            return
        if self.transfer_file is None:
            self.transfer_file = self.root / "transfer.bin"
            with open(self.transfer_file, "wb") as file:
                for _ in range(self.args.transfer_mb):
                    file.write(os.urandom(1024**2))
        workdir = run_dir / "transfers"
        workdir.mkdir()
        # alternate which client goes first, so neither always meets a cold server
        argv = [
            impl.python,
            "-c",
            TRANSFER,
            bucket,
            str(self.transfer_file),
            str(workdir),
            str(index % 2),
        ]
        try:
            _, stdout = run_process(argv, env, run_dir)
            seconds = json.loads(stdout.strip().splitlines()[-1])
        except (CommandFailed, ValueError, IndexError) as exc:
            for key in TRANSFER_ROWS:
                impl.rows[key].error = f"failed: {exc}"
            self._log(f"  {impl.name} transfers: failed: {exc}")
            return
        for key in TRANSFER_ROWS:
            impl.rows[key].samples.append(seconds[key])


# --- report -------------------------------------------------------------------------------


def _ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def targets(rows: dict[str, Row], transfer_mb: int) -> list[dict]:
    """Each target of issue 7 with the measured value and whether it is met."""
    median = {key: row.median for key, row in rows.items()}
    floor, bare = median["floor"], median["bare_setup"]
    checks: list[dict] = []

    def add(name, value, limit, unit, met_if_below=True, why_missing=None):
        if value is None:
            checks.append(
                {"target": name, "value": None, "met": None, "note": why_missing or "no data"}
            )
            return
        met = value <= limit if met_if_below else value >= limit
        checks.append({"target": name, "value": round(value, 3), "unit": unit, "met": met})

    add("import lamindb_setup <= 3x floor", _ratio(median["import"], floor), 3, "x")
    add("lamin --help <= 4x floor", _ratio(median["help"], floor), 4, "x")
    add("lamin info <= 5x floor", _ratio(median["info"], floor), 5, "x")
    add("lamin init (warm cache) <= 0.6 s", median["init_warm"], 0.6, "s")
    add("lamin init (cold cache) <= 0.6 s", median["init_cold"], 0.6, "s")
    add("lamin init (warm cache) <= 3x bare setup", _ratio(median["init_warm"], bare), 3, "x")
    add("lamin init (cold cache) <= 3x bare setup", _ratio(median["init_cold"], bare), 3, "x")
    add("lamin load <= 2x bare setup", _ratio(median["load"], bare), 2, "x")
    add(
        "lamin init --db postgresql <= 2 s",
        median["pg_init"],
        2,
        "s",
        why_missing=rows["pg_init"].error,
    )

    sync = rows["s3_sync"]
    if sync.s3_requests:
        worst = max(sync.s3_requests, key=lambda summary: summary["total"])
        checks.append(
            {
                "target": "no-change sync: 1 metadata request, no download",
                "value": worst["total"],
                "unit": "requests",
                "met": worst["total"] == 1 and worst["sqlite_downloads"] == 0,
                "note": ", ".join(f"{m} {n}" for m, n in sorted(worst["by_method"].items()))
                + f"; downloads of the .lndb: {worst['sqlite_downloads']}",
            }
        )
    else:
        checks.append(
            {
                "target": "no-change sync: 1 metadata request, no download",
                "value": None,
                "met": None,
                "note": sync.error or "requests not counted",
            }
        )
    for direction in ("up", "down"):
        # throughput ratio = s3fs time / upath time
        ratio = _ratio(median[f"{direction}_s3fs"], median[f"{direction}_upath"])
        name = f"{transfer_mb} MB {'upload' if direction == 'up' else 'download'} >= 0.8x s3fs"
        add(name, ratio, 0.8, "x", met_if_below=False, why_missing=rows[f"{direction}_upath"].error)
    return checks


def _fmt_seconds(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_report(implementations, checks, args, notes) -> None:
    mine = implementations[0]
    floor = mine.rows["floor"].median
    theirs = implementations[1] if len(implementations) > 1 else None
    header = f"{'row':<50} {'median s':>9} {'min s':>7} {'max s':>7} {'n':>3} {'x floor':>8}"
    if theirs is not None:
        header += f" {'other s':>9} {'other/ours':>10}"
    print()
    print(header)
    print("-" * len(header))
    for key, label in ROWS.items():
        row = mine.rows[key]
        samples = row.samples
        line = (
            f"{label:<50} {_fmt_seconds(row.median):>9} "
            f"{_fmt_seconds(min(samples) if samples else None):>7} "
            f"{_fmt_seconds(max(samples) if samples else None):>7} {len(samples):>3} "
        )
        ratio = _ratio(row.median, floor) if key not in TRANSFER_ROWS else None
        line += f"{'-' if ratio is None else f'{ratio:.1f}x':>8}"
        if theirs is not None:
            other_row = theirs.rows[key]
            other_ratio = _ratio(other_row.median, row.median)
            line += f" {_fmt_seconds(other_row.median):>9} "
            line += f"{'-' if other_ratio is None else f'{other_ratio:.2f}':>10}"
        print(line)
        if row.error:
            print(f"{'':<4}{row.error}")
        if key in TRANSFER_ROWS and samples:
            print(f"{'':<4}{args.transfer_mb / row.median:.0f} MB/s (in-process transfer time)")
        if row.s3_requests:
            totals = sorted({summary["total"] for summary in row.s3_requests})
            methods = row.s3_requests[-1]["by_method"]
            print(
                f"{'':<4}S3 requests per run: {', '.join(map(str, totals))} "
                f"(last run: {', '.join(f'{m} {n}' for m, n in sorted(methods.items()))})"
            )
        if theirs is not None and theirs.rows[key].error:
            print(f"{'':<4}other: {theirs.rows[key].error}")
    print()
    print(f"{'target':<52} {'measured':>10}  status")
    print("-" * 74)
    for check in checks:
        if check["met"] is None:
            value, status = "-", f"no data ({check.get('note')})"
        else:
            value = f"{check['value']}{'' if check['unit'] == 'requests' else ' ' + check['unit']}"
            if check["unit"] == "requests":
                value = f"{check['value']} req"
            status = "met" if check["met"] else "NOT MET"
            if check.get("note"):
                status += f" ({check['note']})"
        print(f"{check['target']:<52} {value:>10}  {status}")
    for note in notes:
        print(f"note: {note}")


# --- main ---------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per row (default 10)")
    parser.add_argument("--quick", action="store_true", help="3 runs")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write results")
    parser.add_argument("--other-venv", type=Path, default=None, help="virtualenv of another lamin")
    parser.add_argument("--pg-dsn", default=PG_DSN, help=f"Postgres server (default {PG_DSN})")
    parser.add_argument("--no-postgres", action="store_true", help="skip the Postgres rows")
    parser.add_argument("--no-s3", action="store_true", help="skip the moto S3 rows")
    parser.add_argument("--transfer-mb", type=int, default=50, help="size of the transfer file")
    parser.add_argument(
        "--transfer-runs",
        type=int,
        default=None,
        help="runs with transfers (default: min(runs, 5))",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = 3
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.transfer_runs is None:
        args.transfer_runs = min(args.runs, 3)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    implementations = [ours()]
    if args.other_venv is not None:
        implementations.append(other(args.other_venv))
    notes: list[str] = []

    def skip(keys: tuple[str, ...], what: str, reason: str) -> None:
        notes.append(f"{what} rows skipped: {reason}")
        for impl in implementations:
            for key in keys:
                impl.rows[key].error = f"skipped: {reason}"

    postgres = None
    if args.no_postgres:
        skip(("pg_init", "pg_load"), "Postgres", "--no-postgres")
    else:
        postgres = PostgresServer(args.pg_dsn)
        problem = postgres.check()
        if problem is not None:
            skip(("pg_init", "pg_load"), "Postgres", problem)
            postgres = None

    s3 = None
    s3_rows = ("s3_init", "s3_sync", *TRANSFER_ROWS)
    if args.no_s3:
        skip(s3_rows, "S3", "--no-s3")
    else:
        try:
            s3 = S3Server()
        except Exception as exc:
            skip(s3_rows, "S3", f"cannot start moto ({str(exc).splitlines()[0]})")
        else:
            if not s3.counting:
                notes.append("S3 requests not counted: moto's server object changed")

    for impl in implementations:
        print(f"{impl.name}: {' '.join(impl.lamin)} (python {impl.python})", file=sys.stderr)
    load_before = os.getloadavg()
    if load_before[0] > (os.cpu_count() or 1):
        notes.append(
            f"load average {load_before[0]:.1f} on {os.cpu_count()} CPUs at the start: "
            "other processes compete, expect noisy timings"
        )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lamin-bench-") as tmp:
        root = Path(tmp)
        suite = Suite(args, root, implementations, postgres, s3, notes)
        # one untimed pass over the stateless commands: bytecode caches and the page cache
        # are then warm for every timed run alike
        for impl in implementations:
            warm_dir = root / "warmup" / impl.name
            warm_dir.mkdir(parents=True)
            suite._stateless(impl, warm_dir, set())
            for row_key in ("floor", "floor_nosite", "import", "help"):
                impl.rows[row_key].samples.clear()
        try:
            for index in range(args.runs):
                print(f"run {index + 1}/{args.runs} ...", file=sys.stderr, flush=True)
                suite.run(index)
        finally:
            if s3 is not None:
                s3.stop()
    elapsed = time.perf_counter() - started
    load_after = os.getloadavg()

    checks = targets(implementations[0].rows, args.transfer_mb)
    print_report(implementations, checks, args, notes)
    print(
        f"\n{args.runs} runs in {elapsed:.0f} s on {os.cpu_count()} CPUs; load average "
        f"{load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end"
    )

    result = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "runs": args.runs,
        "transfer_mb": args.transfer_mb,
        "transfer_runs": args.transfer_runs,
        "elapsed_s": round(elapsed, 1),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "loadavg_1min_start": round(load_before[0], 2),
            "loadavg_1min_end": round(load_after[0], 2),
        },
        "implementations": {
            impl.name: {
                "python": impl.python,
                "lamin": impl.lamin,
                "rows": {key: row.as_json() for key, row in impl.rows.items()},
            }
            for impl in implementations
        },
        "targets": checks,
        "notes": notes,
    }
    if len(implementations) > 1:
        mine, theirs = implementations
        result["other_over_ours"] = {
            key: round(ratio, 3)
            for key in ROWS
            if (ratio := _ratio(theirs.rows[key].median, mine.rows[key].median)) is not None
        }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
