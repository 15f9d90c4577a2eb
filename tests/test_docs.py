"""Every page of `docs/` runs as a test, so the user guide cannot drift from the code.

A page is one test. It runs in its own Python process (Django is configured once per
process, so pages must not share one), in the fresh HOME and working directory that
`conftest.home` gives every test. The page's executable blocks run in order:

- ```` ```python ```` blocks share one namespace. A block whose first line starts with
  `>>>` is a doctest (`ELLIPSIS` and `NORMALIZE_WHITESPACE` on); any other block is
  executed as it is.
- ```` ```bash ````, ```` ```console ```` and ```` ```shell ```` blocks hold commands
  `$ cmd` (a trailing `\\` continues a command on the next line). Each command runs with
  bash in a subprocess, where `lamin` is `python -m lamindb_setup` of this checkout. The
  lines after a command are its expected output: each one must equal a line of the
  actual output (stdout and stderr), with `...` matching anything. A command must exit
  0 unless it ends with a comment like `# exit 1`.
- ```` ```text ```` blocks (or any other language) and blocks right after a line
  `<!-- skip -->` are not executed.

A comment `<!-- needs: postgres, s3 -->` in a page asks for the test servers:
`postgres` gives a fresh database and replaces `{pg_url}` (its URL) and `{pg_db}` (its
name) in the page's blocks; `s3` points boto/s3fs at the moto server (through
`AWS_ENDPOINT_URL`) and replaces `{bucket}` with a fresh, empty bucket.

`docs/api.md` is also checked against the code: every heading `` ### `name(params)` ``
must name an existing object with exactly these public parameters, and every public
name of SPEC §4–§6 must have an entry.

Run one page by hand: `python -m pytest tests/test_docs.py -k setup-user`.
"""

from __future__ import annotations

import doctest
import inspect
import json
import os
import re
import shlex
import subprocess
import sys
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"

PAGE_TIMEOUT_SECONDS = 900
COMMAND_TIMEOUT_SECONDS = 300
DOCTEST_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

PYTHON_LANGUAGES = {"python", "py", "pycon"}
SHELL_LANGUAGES = {"bash", "console", "shell", "sh"}
KNOWN_NEEDS = {"postgres", "s3"}

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_NEEDS = re.compile(r"<!--\s*needs:\s*(?P<needs>[^>]*?)\s*-->")
_SKIP = re.compile(r"^\s*<!--\s*skip\s*-->\s*$")
_EXIT = re.compile(r"\s+#\s*exit\s+(?P<code>\d+)\s*$")


class PageError(Exception):
    """A page that the runner cannot understand (not a failing example)."""


@dataclass
class Step:
    """One thing to run: python code, a doctest, or a shell command."""

    kind: str  # "python" | "doctest" | "shell"
    line: int  # 1-based line in the page where the code starts
    code: str
    expected: list[str] = field(default_factory=list)
    exit_code: int = 0


@dataclass
class Page:
    path: Path
    needs: set[str]
    steps: list[Step]

    @property
    def name(self) -> str:
        return self.path.relative_to(REPO).as_posix()


# --- reading a page ---------------------------------------------------------------------


def _code_blocks(text: str):
    """Yield `(language, first_line, lines, skipped)` for each fenced block of `text`."""
    lines = text.splitlines()
    previous = ""  # the last non-blank line before the current one
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if not match:
            if lines[index].strip():
                previous = lines[index]
            index += 1
            continue
        fence = match["fence"]
        indent = len(match["indent"])
        language = match["info"].strip().split(" ")[0].lower()
        start = index + 1
        end = start
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        if end == len(lines):
            raise PageError(f"line {index + 1}: code block is never closed")
        body = [line[indent:] if line[:indent].isspace() else line for line in lines[start:end]]
        yield language, start + 1, body, bool(_SKIP.match(previous))
        previous = lines[end]
        index = end + 1


def _shell_steps(first_line: int, body: list[str]) -> list[Step]:
    steps: list[Step] = []
    index = 0
    while index < len(body):
        line = body[index]
        if line.startswith("$ "):
            line_number = first_line + index
            command = line[2:]
            while command.endswith("\\") and index + 1 < len(body):
                index += 1
                command = command[:-1] + "\n" + body[index]
            exit_code = 0
            marker = _EXIT.search(command)
            if marker:
                exit_code = int(marker["code"])
                command = command[: marker.start()]
            steps.append(Step("shell", line_number, command.strip(), exit_code=exit_code))
        elif line.strip():
            if not steps:
                raise PageError(
                    f"line {first_line + index}: a shell block must start with a `$ ` "
                    "command; prefix commands with `$ `, or fence the block as ```text "
                    "or put <!-- skip --> before it"
                )
            steps[-1].expected.append(line)
        index += 1
    if not steps:
        raise PageError(
            f"line {first_line}: shell block without `$ ` commands; prefix commands with "
            "`$ `, or fence it as ```text / put <!-- skip --> before it"
        )
    return steps


def read_page(path: Path) -> Page:
    """Parse a page into its needs and the steps to run, in order."""
    text = path.read_text(encoding="utf-8")
    needs: set[str] = set()
    for match in _NEEDS.finditer(text):
        needs |= {item.strip() for item in match["needs"].split(",") if item.strip()}
    unknown = needs - KNOWN_NEEDS
    if unknown:
        raise PageError(f"unknown needs {sorted(unknown)}; known: {sorted(KNOWN_NEEDS)}")
    steps: list[Step] = []
    for language, first_line, body, skipped in _code_blocks(text):
        if skipped:
            continue
        if language in PYTHON_LANGUAGES:
            code = "\n".join(body) + "\n"
            is_doctest = next((line for line in body if line.strip()), "").lstrip()
            kind = "doctest" if is_doctest.startswith(">>>") else "python"
            steps.append(Step(kind, first_line, code))
        elif language in SHELL_LANGUAGES:
            steps.extend(_shell_steps(first_line, body))
    return Page(path, needs, steps)


def substitute(page: Page, values: dict[str, str]) -> None:
    """Replace the `{placeholder}`s of the page's needs in its code and expected output."""

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
        return text

    for step in page.steps:
        step.code = fill(step.code)
        step.expected = [fill(line) for line in step.expected]


# --- running a page (in its own process) ------------------------------------------------


def _line_pattern(expected: str) -> re.Pattern:
    parts = [re.escape(" ".join(part.split())) for part in expected.strip().split("...")]
    return re.compile(".*".join(parts))


def missing_lines(expected: list[str], output: str) -> list[str]:
    """The expected lines that match no line of `output` (`...` is a wildcard)."""
    actual = [" ".join(line.split()) for line in output.splitlines()]
    missing = []
    for line in expected:
        if line.strip() in ("", "..."):
            continue
        pattern = _line_pattern(line)
        if not any(pattern.fullmatch(candidate) for candidate in actual):
            missing.append(line)
    return missing


def _run_shell(step: Step, where: str) -> bool:
    lamin = f'lamin() {{ {shlex.quote(sys.executable)} -m lamindb_setup "$@"; }}\n'
    print(f"\n--- {where}: $ {step.code}", flush=True)
    try:
        result = subprocess.run(
            ["bash", "-c", lamin + step.code],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as exc:
        print(exc.stdout or "")
        print(f"FAILED {where}: timed out after {COMMAND_TIMEOUT_SECONDS} s")
        return False
    print(result.stdout, end="", flush=True)
    ok = True
    if result.returncode != step.exit_code:
        print(f"FAILED {where}: exit code {result.returncode}, expected {step.exit_code}")
        ok = False
    missing = missing_lines(step.expected, result.stdout)
    if missing:
        print(f"FAILED {where}: these expected lines are not in the output:")
        for line in missing:
            print(f"    {line}")
        ok = False
    return ok


def _run_python(step: Step, where: str, namespace: dict, filename: str) -> bool:
    print(f"\n--- {where}: python", flush=True)
    # pad with blank lines so that tracebacks show the line numbers of the page
    code = compile("\n" * (step.line - 1) + step.code, filename, "exec")
    try:
        exec(code, namespace)
    except BaseException:
        sys.stdout.flush()
        traceback.print_exc(file=sys.stdout)
        print(f"FAILED {where}: the python block raised")
        return False
    sys.stdout.flush()
    return True


def _run_doctest(step: Step, where: str, namespace: dict, filename: str) -> bool:
    print(f"\n--- {where}: doctest", flush=True)
    parser = doctest.DocTestParser()
    test = parser.get_doctest(step.code, namespace, where, filename, step.line - 1)
    runner = doctest.DocTestRunner(optionflags=DOCTEST_FLAGS, verbose=False)
    report: list[str] = []
    runner.run(test, out=report.append, clear_globs=False)
    namespace.update(test.globs)  # DocTest ran on a copy; later blocks see its names
    sys.stdout.flush()
    if runner.failures:
        print("".join(report), end="")
        print(f"FAILED {where}: {runner.failures} doctest example(s) failed")
        return False
    return True


def run_steps(steps_file: Path) -> int:
    """Run the steps of one page in this process; 0 if all passed."""
    spec = json.loads(steps_file.read_text(encoding="utf-8"))
    filename = spec["page"]
    namespace: dict = {"__name__": "__main__"}
    for raw in spec["steps"]:
        step = Step(**raw)
        where = f"{filename}:{step.line}"
        if step.kind == "shell":
            ok = _run_shell(step, where)
        elif step.kind == "doctest":
            ok = _run_doctest(step, where, namespace, filename)
        else:
            ok = _run_python(step, where, namespace, filename)
        if not ok:
            return 1
    return 0


# --- pytest -----------------------------------------------------------------------------


def _pages() -> list:
    params = []
    for path in sorted(DOCS.rglob("*.md")):
        name = path.relative_to(DOCS).as_posix()
        try:
            needs = read_page(path).needs
        except PageError:
            needs = set()  # the test reports the error
        marks = [getattr(pytest.mark, need) for need in sorted(needs)]
        params.append(pytest.param(path, id=name, marks=marks))
    return params


@pytest.mark.timeout(PAGE_TIMEOUT_SECONDS + 60)
@pytest.mark.parametrize("path", _pages())
def test_page(path: Path, request, tmp_path):
    try:
        page = read_page(path)
    except PageError as exc:
        pytest.fail(f"{path.relative_to(REPO)}: {exc}", pytrace=False)
    values: dict[str, str] = {}
    if "postgres" in page.needs:
        pg_url = request.getfixturevalue("pg_url")
        values["pg_url"] = pg_url
        values["pg_db"] = pg_url.rsplit("/", 1)[1]
    if "s3" in page.needs:
        values["bucket"] = request.getfixturevalue("bucket")
    substitute(page, values)
    if not page.steps:
        return
    steps_file = tmp_path / "steps.json"
    steps = [asdict(step) for step in page.steps]
    steps_file.write_text(json.dumps({"page": page.name, "steps": steps}), encoding="utf-8")

    env = dict(os.environ)  # HOME, XDG_CACHE_HOME and AWS_* set by the fixtures
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("PYTHONSTARTUP", None)
    try:
        result = subprocess.run(
            [sys.executable, __file__, str(steps_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=Path.cwd(),  # the test's fresh working directory
            env=env,
            timeout=PAGE_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{page.name} timed out:\n{exc.stdout or ''}", pytrace=False)
    if result.returncode != 0:
        pytest.fail(f"{page.name} failed:\n{result.stdout}", pytrace=False)


# --- the runner itself ----------------------------------------------------------


def test_runner_parses_blocks(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- needs: s3 -->\n"
        "```python\nx = 1\n```\n"
        "<!-- skip -->\n```python\nraise SystemExit\n```\n"
        "```text\nnot run\n```\n"
        "```console\n$ lamin info  # exit 1\nNo user ...\n$ echo a \\\n  b\na b\n```\n"
        "```python\n>>> x\n1\n```\n"
    )
    parsed = read_page(page)
    assert parsed.needs == {"s3"}
    assert [(s.kind, s.line) for s in parsed.steps] == [
        ("python", 3),
        ("shell", 13),
        ("shell", 15),
        ("doctest", 20),
    ]
    assert parsed.steps[1].code == "lamin info" and parsed.steps[1].exit_code == 1
    assert parsed.steps[1].expected == ["No user ..."]
    assert parsed.steps[2].code == "echo a \n  b"


def test_runner_rejects_shell_block_without_commands(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```bash\nlamin info\n```\n")
    with pytest.raises(PageError, match="must start with a `\\$ ` command"):
        read_page(page)


def test_expected_lines_match_loosely():
    output = "✅ Loaded instance: testuser1/mydata\n- db: sqlite:////tmp/x/mydata.lndb\n"
    assert missing_lines(["✅ Loaded instance: testuser1/mydata"], output) == []
    assert missing_lines(["- db: sqlite:///.../mydata.lndb", "..."], output) == []
    assert missing_lines(["- db: postgresql://..."], output) == ["- db: postgresql://..."]


# --- docs/api.md ----------------------------------------------------------------

_HEADING = re.compile(r"^###\s+`(?P<name>[\w.]+)(?:\((?P<params>[^`]*)\))?`", re.MULTILINE)

# every public name of SPEC §4-§6 that api.md must document
API_ENTRIES = [
    "ln_setup.settings",
    "ln_setup.settings.user",
    "ln_setup.settings.instance",
    "ln_setup.settings.storage",
    "ln_setup.settings._instance_exists",
    "ln_setup.dev.UserSettings",
    *(f"ln_setup.dev.UserSettings.{key}" for key in ("email", "password", "access_token")),
    *(f"ln_setup.dev.UserSettings.{key}" for key in ("id", "handle", "name")),
    "ln_setup.dev.InstanceSettings",
    *(
        f"ln_setup.dev.InstanceSettings.{key}"
        for key in (
            "owner",
            "name",
            "identifier",
            "storage",
            "schema",
            "_schema_str",
            "db",
            "dialect",
            "_sqlite_file",
            "_sqlite_file_local",
            "is_cloud_sqlite",
            "is_remote",
            "_update_cloud_sqlite_file",
            "_update_local_sqlite_file",
            "_persist",
            "_is_db_setup",
            "_is_db_reachable",
            "_cloud_sqlite_locker",
        )
    ),
    "ln_setup.dev.StorageSettings",
    *(
        f"ln_setup.dev.StorageSettings.{key}"
        for key in (
            "root",
            "root_as_str",
            "is_cloud",
            "type",
            "region",
            "cache_dir",
            "key_to_filepath",
            "cloud_to_local_no_update",
            "cloud_to_local",
            "local_filepath",
            "id",
            "_set_fs_kwargs",
        )
    ),
    "ln_setup.dev.Storage",
    "ln_setup.dev.upath.UPath",
    "ln_setup.dev.upath.UPath.download_to",
    "ln_setup.dev.upath.UPath.upload_from",
    "ln_setup.dev.upath.UPath.synchronize",
    "ln_setup.dev.upath.UPath.modified",
    "ln_setup.dev.upath.infer_filesystem",
    "ln_setup._hub.get_hub",
    *(
        f"ln_setup._hub.Hub.{key}"
        for key in (
            "sign_up",
            "sign_in",
            "init_instance",
            "load_instance",
            "add_storage",
            "delete_instance",
        )
    ),
    *(
        f"ln_setup._hub.{key}"
        for key in (
            "get_storage_region",
            "validate_storage_root_arg",
            "validate_db_arg",
            "validate_schema_arg",
            "get_schema_module_name",
        )
    ),
    "ln_setup.signup",
    "ln_setup.login",
    "ln_setup.init",
    "ln_setup.load",
    "ln_setup.close",
    "ln_setup.delete",
    "ln_setup.info",
    "ln_setup.set.storage",
    "ln_setup.set_storage",
    "ln_setup.register",
    "ln_setup.migrate.create",
    "ln_setup.migrate.deploy",
    "ln_setup.schema.list_entities",
    "ln_setup.schema.draw",
    "ln_setup.track",
]


def _resolve(dotted: str) -> tuple[object, bool]:
    """`(object, is_method)` for a dotted `ln_setup.…` name, without reading settings.

    `is_method` says that the object is a plain function found on a class, whose first
    parameter is the instance and is not written in the docs.
    """
    import importlib
    import types

    parts = dotted.split(".")
    assert parts[0] == "ln_setup", f"{dotted}: entries start with ln_setup"
    obj: object = importlib.import_module("lamindb_setup")
    is_method = False
    for part in parts[1:]:
        owner = obj
        if isinstance(owner, types.ModuleType):
            try:
                obj = getattr(owner, part)  # runs the lazy imports of the package
            except AttributeError:
                obj = importlib.import_module(f"{owner.__name__}.{part}")
        elif isinstance(owner, type) and part in getattr(owner, "__dataclass_fields__", {}):
            obj = owner.__dataclass_fields__[part]
        else:
            try:
                # static lookup: a property must not run (it would read ~/.lamin)
                obj = inspect.getattr_static(owner, part)
            except AttributeError:
                if not _sets_attribute(owner, part):
                    raise
                obj = None  # an attribute that __init__ sets
        is_method = isinstance(owner, type) and inspect.isfunction(obj)
    return obj, is_method


def _sets_attribute(cls: object, name: str) -> bool:
    """Whether the methods of class `cls` assign `self.<name>`."""
    if not isinstance(cls, type):
        return False
    source = inspect.getsource(cls)
    return re.search(rf"self\.{re.escape(name)}\s*(:[^=]*)?=", source) is not None


def _public_signature(obj, is_method: bool = False) -> str:
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    parameters = list(inspect.signature(obj).parameters.values())
    if is_method:
        parameters = parameters[1:]
    rendered = []
    keyword_only_marked = False
    for parameter in parameters:
        if parameter.name.startswith("_") or parameter.name == "self":
            continue
        text = parameter.name
        if parameter.kind is parameter.VAR_POSITIONAL:
            text, keyword_only_marked = f"*{text}", True
        elif parameter.kind is parameter.VAR_KEYWORD:
            text = f"**{text}"
        elif parameter.kind is parameter.KEYWORD_ONLY and not keyword_only_marked:
            rendered.append("*")
            keyword_only_marked = True
        if parameter.default is not parameter.empty:
            text += f"={parameter.default!r}"
        rendered.append(text)
    return ", ".join(rendered)


def _api_headings() -> dict[str, str | None]:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    return {m["name"]: m["params"] for m in _HEADING.finditer(text)}


def test_api_reference_covers_the_public_api():
    documented = _api_headings()
    missing = [name for name in API_ENTRIES if name not in documented]
    assert not missing, f"docs/api.md lacks entries for {missing}"


def test_api_reference_matches_the_code():
    problems = []
    for name, params in _api_headings().items():
        try:
            obj, is_method = _resolve(name)
        except (AttributeError, ImportError) as exc:
            problems.append(f"{name}: does not exist ({exc})")
            continue
        if params is None:
            continue
        try:
            actual = _public_signature(obj, is_method)
        except (TypeError, ValueError):
            problems.append(f"{name}: documented with parameters but is not callable")
            continue
        if " ".join(params.split()) != actual:
            problems.append(f"{name}: docs say ({params}), code has ({actual})")
    assert not problems, "docs/api.md is out of date:\n" + "\n".join(problems)


if __name__ == "__main__":
    sys.exit(run_steps(Path(sys.argv[1])))
