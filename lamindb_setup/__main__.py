"""The `lamin` command line: a table of subcommands, each calling one API function."""

from __future__ import annotations

import argparse
import importlib
import sys

# command -> (module, function); modules are imported only when the command runs
_COMMANDS = {
    "signup": ("lamindb_setup._setup_user", "signup"),
    "login": ("lamindb_setup._setup_user", "login"),
    "init": ("lamindb_setup._init_instance", "init"),
    "load": ("lamindb_setup._load_instance", "load"),
    "close": ("lamindb_setup._close", "close"),
    "delete": ("lamindb_setup._delete", "delete"),
    "info": ("lamindb_setup._info", "info"),
    "set": ("lamindb_setup._set", "set"),
    "register": ("lamindb_setup._register_instance", "register"),
    "migrate": ("lamindb_setup._migrate", "migrate"),
    "schema": ("lamindb_setup._schema", "schema"),
    "track": ("lamindb_setup._notebook", "track"),
}

_SUCCESS_STRINGS = {"migrate-success", "migrate-unnecessary", "migrate-skipped"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lamin", description="Set up and manage LaminDB instances and users."
    )
    sub = parser.add_subparsers(dest="command", metavar="command")

    p = sub.add_parser("signup", help="Sign up with an email; prints the generated password.")
    p.add_argument("email", help="Your email address.")

    p = sub.add_parser("login", help="Log in with your email, or your handle once cached.")
    p.add_argument("user", help="Email or handle.")
    p.add_argument("--password", default=None, help="Password (cached after the first login).")

    p = sub.add_parser("init", help="Create an instance and load it.")
    p.add_argument(
        "--storage", required=True, help="Storage root: a folder, s3://bucket or gs://bucket."
    )
    p.add_argument(
        "--db",
        default=None,
        help="Postgres URL postgresql://user:pwd@host:port/dbname; default SQLite.",
    )
    p.add_argument(
        "--schema", default=None, help="Comma-separated schema modules, e.g. bionty,lamin1."
    )
    p.add_argument(
        "--name", default=None, help="Instance name; default: db, bucket or folder name."
    )

    p = sub.add_parser("load", help="Load an instance: <name>, <owner>/<name> or a lamin.ai URL.")
    p.add_argument("instance", help="The instance to load.")
    p.add_argument(
        "--storage", default=None, help="New storage root, e.g. after moving the folder."
    )
    p.add_argument(
        "--migrate", action="store_true", default=None, help="Deploy pending migrations."
    )

    sub.add_parser("close", help="Close the current instance.")

    p = sub.add_parser("delete", help="Delete an instance of yours (settings and SQLite file).")
    p.add_argument("instance", help="Name of the instance.")

    sub.add_parser("info", help="Show the current user and instance.")

    p = sub.add_parser("set", help="Change settings of the current instance.")
    p.add_argument("--storage", required=True, help="New default storage root.")

    sub.add_parser("register", help="Register the current instance on the hub.")

    p = sub.add_parser(
        "migrate", help="Create, deploy, show or check migrations of the current instance."
    )
    p.add_argument("action", choices=["create", "deploy", "show", "check"], help="What to do.")

    p = sub.add_parser("schema", help="Inspect the schema of the current instance.")
    p.add_argument("action", choices=["list", "draw"], help="List tables or print a DOT graph.")
    p.add_argument("--output", default=None, help="File to write the DOT graph to (draw).")

    p = sub.add_parser("track", help="Add nbproject metadata (id, version) to a notebook.")
    p.add_argument("filepath", help="The notebook (.ipynb).")
    p.add_argument("--pypackage", default=None, help="Comma-separated packages to record.")
    return parser


def _call(args: argparse.Namespace):
    module_name, attribute = _COMMANDS[args.command]
    target = getattr(importlib.import_module(module_name), attribute)
    command = args.command
    if command == "signup":
        return target(args.email)
    if command == "login":
        return target(args.user, password=args.password)
    if command == "init":
        return target(storage=args.storage, db=args.db, schema=args.schema, name=args.name)
    if command == "load":
        return target(args.instance, storage=args.storage, migrate=args.migrate)
    if command == "delete":
        return target(args.instance)
    if command == "set":
        return target.storage(args.storage)
    if command == "migrate":
        result = getattr(target, args.action)()
        if args.action == "check":
            return None if result else "migrate-failed"
        return result if isinstance(result, str) else None
    if command == "schema":
        if args.action == "list":
            print("\n".join(target.list_entities()))
        else:
            dot = target.draw(args.output)
            if args.output is None:
                print(dot, end="")
        return None
    if command == "track":
        return target(args.filepath, pypackage=args.pypackage)
    return target()


def main(argv: list[str] | None = None) -> int:
    """Run the `lamin` CLI; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 1
    from .dev._errors import SetupError

    try:
        result = _call(args)
    except SetupError as exc:
        from .dev._logger import error

        error(exc)
        return 1
    except KeyboardInterrupt:
        print("Interrupted", file=sys.stderr)
        return 130
    if isinstance(result, str) and result not in _SUCCESS_STRINGS:
        print(result, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
