"""`python -m console COMMAND`: the staff console and its command-line tools.

run                 start the action server, Rasa (HTTP API on) and the console (`make console`)
serve               serve the console for an already running Rasa server (production)
add-user NAME       add or change a staff account (asks for the password, or reads stdin)
set-role NAME ROLE  give an account a role: viewer, annotator or admin
hash-password       print a password hash for CONSOLE_ACCOUNTS (reads the password)
list                list conversations, newest first (same filters as the web list)
export CONVERSATION export a conversation, with its corrections, as test story + NLU examples
retention           delete conversations idle for more than CONSOLE_RETENTION_DAYS (or --days),
                    once or --every 24h
forget CONVERSATION delete one person's conversation, corrections and exported files (a
                    deletion request); CONVERSATION is the console's c-... hash or the sender id
export-annotations  write the inbox annotations as NLU examples and labelled questions
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import secrets
import sys
from pathlib import Path

from console.annotation_export import export_annotations
from console.annotations import Annotations
from console.auth import MIN_PASSWORD, add_account, hash_password
from console.conversations import ConversationIndex, build_turns
from console.export import build_export, export_name
from console.listing import SOURCES, Filters, select
from console.project import Project
from console.pseudonyms import Pseudonyms, is_pseudonym
from console.retention import parse_interval, purge, run_every
from console.roles import Role, RoleBook
from console.settings import ConsoleSettings
from console.state import ConsoleState
from console.store import TrackerStore, TrackerStoreError
from opastin.config import Settings
from opastin.serving import serve_until_signal


def _read_password(confirm: bool) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("password: ")
    if confirm and getpass.getpass("again: ") != password:
        raise SystemExit("error: the passwords differ")
    return password


def ready_message(config: ConsoleSettings):
    return lambda: print(
        f"[console] open http://{config.host}:{config.port}/ (Ctrl-C stops)", flush=True
    )


def cmd_serve(config: ConsoleSettings, project: Settings) -> int:
    """Serve the console for a Rasa server that runs elsewhere (production)."""
    from console.app import make_app

    app = make_app(config, project)
    if not app_has_accounts(config):
        print("[console] warning: no accounts yet; add one: python -m console add-user NAME")
    # The app's start-up also starts retention (console.jobs.retention_task, docs/privacy.md).
    asyncio.run(serve_until_signal(app, config.host, config.port, ready_message(config)))
    return 0


def app_has_accounts(config: ConsoleSettings) -> bool:
    """Whether anyone could log in (a console without accounts is a setup mistake)."""
    from console.auth import load_accounts

    return bool(load_accounts(config.accounts_file, config.accounts))


def cmd_run(config: ConsoleSettings, project: Settings) -> int:
    """Everything on one machine: the bot with its HTTP API on, and the console."""
    from opastin.stack import Stack, ensure_index, ensure_model, log

    token = config.resolved_rasa_token(project) or secrets.token_urlsafe(24)
    config = config.model_copy(update={"rasa_token": token})
    project.var_dir.mkdir(parents=True, exist_ok=True)
    ensure_index(project)
    stack = Stack(project, ensure_model(project), project.var_dir / "logs")
    with stack.started(rasa_args=("--enable-api", "--auth-token", token)):
        log(f"Rasa ready at {stack.rasa_url} (HTTP API on, token from the console's settings)")
        with contextlib.suppress(KeyboardInterrupt):
            cmd_serve(config, project)
    return 0


def cmd_add_user(config: ConsoleSettings, name: str, role: str | None = None) -> int:
    """Add or change one account in the accounts file (the password is hashed)."""
    try:
        given = Role.parse(role) if role else None
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    password = _read_password(confirm=True)
    try:
        add_account(config.accounts_file, name, password)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    print(f"account {name!r} saved in {config.accounts_file}")
    if given is not None:
        return cmd_set_role(config, name, given.label)
    return 0


def cmd_set_role(config: ConsoleSettings, name: str, role: str) -> int:
    """Give an account a role in the console's store (what an admin does in the console)."""
    try:
        parsed = Role.parse(role)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    RoleBook(config.state_db, config.roles, config.default_role).set_role(
        name, parsed, "command line"
    )
    print(f"account {name!r} is now {parsed.label}")
    return 0


def cmd_export_annotations(config: ConsoleSettings, project: Settings) -> int:
    """The inbox's Export: every current annotation to NLU examples and labelled questions."""
    annotations = Annotations(config.state_db, ConsoleState(config.state_db))
    result, written = export_annotations(
        annotations.all_current(),
        Project(corpus_dir=project.corpus_dir),
        config.annotated_nlu_dir,
        config.annotated_questions,
    )
    print(f"{result.examples} NLU example(s), {result.questions} labelled question(s)")
    for path in written:
        print(f"written: {path}")
    for note in result.notes:
        print(f"note: {note}")
    return 0


def cmd_hash_password() -> int:
    """Print a hash for CONSOLE_ACCOUNTS (container secrets need no file)."""
    password = _read_password(confirm=True)
    if len(password) < MIN_PASSWORD:
        raise SystemExit(f"error: password: at least {MIN_PASSWORD} characters")
    print(hash_password(password))
    return 0


def cmd_list(config: ConsoleSettings, project: Settings, args: argparse.Namespace) -> int:
    """The conversation list in a terminal, with the web list's filters."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(config.timezone)
    query = {k: v for k, v in vars(args).items() if isinstance(v, str) and v}
    query.update({k: "1" for k in ("fallback", "negative") if getattr(args, k)})
    try:
        filters = Filters.from_query(query)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    store = TrackerStore(config.resolved_tracker_url(project))
    summaries = ConversationIndex(store, _pseudonyms(config)).refresh()
    for s in select(summaries, filters, tz)[: args.limit]:
        flags = ("F" if s.fallback else "-") + ("N" if s.negative_feedback else "-")
        last = s.as_json(tz)["last"]
        print(f"{last}  {flags}  {s.messages:3d}  {s.conversation}  {s.preview[:60]}")
    return 0


def _pseudonyms(config: ConsoleSettings) -> Pseudonyms:
    return Pseudonyms.from_settings(config.sender_key, config.sender_key_file)


def _find(config: ConsoleSettings, store: TrackerStore, given: str) -> tuple[str, str]:
    """(sender id, keyed hash) of a conversation named by its hash or its sender id."""
    pseudonyms = _pseudonyms(config)
    if is_pseudonym(given):
        sender = ConversationIndex(store, pseudonyms).sender_of(given)
        if sender is not None:
            return sender, given
    elif store.events(given):
        return given, pseudonyms.of(given)
    raise SystemExit(f"error: no conversation {given!r} in {store.describe()}")


def cmd_export(config: ConsoleSettings, project: Settings, args: argparse.Namespace) -> int:
    """The web export from the command line: story, NLU examples, questions."""
    store = TrackerStore(config.resolved_tracker_url(project))
    sender, conversation = _find(config, store, args.conversation)
    state = ConsoleState(config.state_db)
    result = build_export(
        conversation,
        build_turns(store.events(sender), raw=True),
        state.corrections(sender),
        Project(corpus_dir=project.corpus_dir),
    )
    paths = result.write(
        args.stories_dir or config.stories_dir,
        args.nlu_dir or config.nlu_dir,
        args.questions_dir or config.questions_dir,
    )
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    for note in result.notes:
        print(f"note: {note}")
    return 0


def cmd_retention(config: ConsoleSettings, project: Settings, args: argparse.Namespace) -> int:
    """Delete idle conversations now, or on a schedule (--every), or only count them."""
    days = args.days if args.days is not None else config.retention_days
    if days <= 0:
        raise SystemExit("error: --days N needs N >= 1 (or leave it out: CONSOLE_RETENTION_DAYS)")
    store = TrackerStore(config.resolved_tracker_url(project))
    state = ConsoleState(config.state_db)
    if args.every:
        try:
            every = parse_interval(args.every)
        except ValueError as error:
            raise SystemExit(f"error: --every: {error}") from None
        print(f"[console] retention every {args.every}: {days} days, {store.describe()}")
        run_every(store, state, days, every)
        return 0
    result = purge(store, state, days, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    print(
        f"{verb} {len(result.conversations)} conversation(s) idle for more than {days} days"
        + ("" if args.dry_run else f" ({result.events} events)")
        + f" from {store.describe()}"
    )
    return 0


def cmd_forget(config: ConsoleSettings, project: Settings, args: argparse.Namespace) -> int:
    """Delete one person's conversation on request: events, corrections, exported files."""
    store = TrackerStore(config.resolved_tracker_url(project))
    sender, conversation = _find(config, store, args.conversation)
    events = store.delete([sender])
    ConsoleState(config.state_db).forget([sender])
    print(f"deleted conversation {conversation} ({events} events) from {store.describe()}")
    name = export_name(conversation)
    for folder in (config.stories_dir, config.nlu_dir, config.questions_dir):
        path = folder / f"{name}.yml"
        if path.exists():
            path.unlink()
            print(f"deleted exported file {path} (commit the deletion if it was committed)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; settings are validated first."""
    parser = argparse.ArgumentParser(prog="python -m console", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the bot (HTTP API on) and the console")
    sub.add_parser("serve", help="serve the console for a running Rasa server")
    add = sub.add_parser("add-user", help="add or change a staff account")
    add.add_argument("name")
    add.add_argument("--role", help="viewer, annotator or admin (default: unchanged)")
    role = sub.add_parser("set-role", help="give an account a role")
    role.add_argument("name")
    role.add_argument("role", help="viewer, annotator or admin")
    sub.add_parser("export-annotations", help="write inbox annotations to NLU and eval files")
    sub.add_parser("hash-password", help="print a password hash for CONSOLE_ACCOUNTS")
    lst = sub.add_parser("list", help="list conversations, newest first")
    for name in ("q", "date_from", "date_to", "channel", "language", "intent"):
        lst.add_argument(f"--{name.replace('_', '-')}", dest=name, default="")
    lst.add_argument("--source", default="all", choices=list(SOURCES))
    lst.add_argument("--fallback", action="store_true", help="only with an NLU fallback")
    lst.add_argument("--negative", action="store_true", help="only with negative feedback")
    lst.add_argument("--limit", type=int, default=50)
    exp = sub.add_parser("export", help="export a conversation as test story + NLU examples")
    exp.add_argument("conversation", help="the c-... hash the console shows, or the sender id")
    exp.add_argument("--stories-dir", type=Path)
    exp.add_argument("--nlu-dir", type=Path)
    exp.add_argument("--questions-dir", type=Path)
    ret = sub.add_parser("retention", help="delete conversations idle for more than N days")
    ret.add_argument("--days", type=int)
    ret.add_argument("--dry-run", action="store_true", help="only count them")
    ret.add_argument("--every", help="keep running, one round per interval (24h, 30m, 1d)")
    fgt = sub.add_parser("forget", help="delete one person's conversation (deletion request)")
    fgt.add_argument("conversation", help="the c-... hash the console shows, or the sender id")
    args = parser.parse_args(argv)

    config = ConsoleSettings.from_env()
    # Background work (retention rounds) reports through logging; nothing logged holds user text.
    logging.basicConfig(level=logging.INFO, format="[console] %(levelname)s %(message)s")
    if args.command == "hash-password":
        return cmd_hash_password()
    if args.command == "add-user":
        return cmd_add_user(config, args.name, args.role)
    if args.command == "set-role":
        return cmd_set_role(config, args.name, args.role)
    project = Settings.from_env()
    commands = {
        "run": lambda: cmd_run(config, project),
        "serve": lambda: cmd_serve(config, project),
        "list": lambda: cmd_list(config, project, args),
        "export": lambda: cmd_export(config, project, args),
        "retention": lambda: cmd_retention(config, project, args),
        "forget": lambda: cmd_forget(config, project, args),
        "export-annotations": lambda: cmd_export_annotations(config, project),
    }
    try:
        return commands[args.command]()
    except TrackerStoreError as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    sys.exit(main())
