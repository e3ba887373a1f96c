"""`python -m tools.loadtest`: the command line, the local topology or running servers."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from pathlib import Path

import tools.loadtest
from opastin.config import Settings
from opastin.stack import ensure_index, ensure_model, log
from tools.loadtest.audit import audit
from tools.loadtest.report import LoadReport, write_pictures
from tools.loadtest.runner import LoadPlan, run_load
from tools.loadtest.topology import local_topology
from tools.servers import free_port


def load_test(
    urls: list[str], db_url: str | None, plan: LoadPlan, origin: str, label: str
) -> LoadReport:
    conversations, seconds = asyncio.run(run_load(urls, plan, origin, progress=True))
    problems = audit(db_url, conversations) if db_url else None
    return LoadReport(label, conversations, seconds, problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.loadtest", description=(tools.loadtest.__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("-n", "--conversations", type=int, default=20)
    parser.add_argument("-m", "--turns", type=int, default=5)
    parser.add_argument("--socketio", type=int, default=0, help="conversations over socket.io")
    parser.add_argument("--time-limit", type=float, default=120, help="seconds; no new turn after")
    parser.add_argument("--think", type=float, default=0, help="seconds between a user's turns")
    parser.add_argument("--burst", type=int, default=1, help="messages sent at once per turn")
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--rasa", type=int, default=2, help="Rasa instances to start (1..4)")
    parser.add_argument("--actions", type=int, default=1, help="action servers to start (1..4)")
    parser.add_argument(
        "--lock-store",
        choices=["atomic", "redis", "none"],
        default="atomic",
        help="postgres: ours (default), Rasa's own RedisLockStore, or none (in-memory each)",
    )
    parser.add_argument("--model", type=Path, help="trained model (default: train if needed)")
    parser.add_argument("--url", action="append", help="running Rasa instance(s), loopback")
    parser.add_argument("--tracker-db", help="SQLAlchemy URL of their tracker store, to audit")
    parser.add_argument("--origin", default="http://127.0.0.1:8000", help="socket.io Origin")
    parser.add_argument("--json", type=Path, help="append the result as a JSON line here")
    args = parser.parse_args(argv)
    plan = LoadPlan(
        args.conversations, args.turns, args.socketio, args.time_limit, args.think, args.burst
    )
    plan.validate()
    if args.url:
        label = f"{len(args.url)} running instance(s)"
        report = load_test(args.url, args.tracker_db, plan, args.origin, label)
    else:
        if not (1 <= args.rasa <= 4 and 1 <= args.actions <= 4):
            raise SystemExit("error: --rasa and --actions must be 1..4 on this machine")
        settings = Settings.from_env().model_copy(update={"web_port": free_port()})
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        ensure_index(settings)
        model = args.model.resolve() if args.model else ensure_model(settings)
        store = "PostgreSQL/Redis" if args.store == "postgres" else "SQLite"
        if args.store == "postgres" and args.lock_store != "atomic":
            store = f"PostgreSQL, lock store: {args.lock_store}"
        label = f"{args.rasa} Rasa instance(s), {args.actions} action server(s), {store}"
        with tempfile.TemporaryDirectory(prefix="opastin-load-") as tmp:
            work = Path(tmp)
            settings = settings.model_copy(update={"tracker_db": work / "tracker.db"})
            log(f"starting {label} (logs in {work} while it runs)")
            with local_topology(
                settings=settings,
                model=model,
                work_dir=work,
                store=args.store,
                rasa_instances=args.rasa,
                action_servers=args.actions,
                lock_store=args.lock_store,
            ) as topology:
                log(f"ready; running {plan.conversations} conversations x {plan.turns} turns")
                report = load_test(
                    topology.rasa_urls, topology.tracker_db_url, plan, topology.origin, label
                )
    load = os.getloadavg()
    print(report.format(), flush=True)
    print(
        "machine load average (1/5/15 min) after the run: "
        + " ".join(f"{value:.1f}" for value in load)
    )
    try:
        page = write_pictures(report, Settings.from_env().var_dir / "reports")
        print(f"report (latency histogram, turns/s and p95 per second): {page}")
    except ValueError as error:  # no answered turn: nothing to draw
        print(f"report: not written ({error})")
    if args.json:
        with args.json.open("a") as out:
            out.write(
                json.dumps(
                    {
                        "label": report.label,
                        "rows": report.rows(),
                        "problems": report.problems,
                        "ok": report.ok,
                        "load_average": load,
                    }
                )
                + "\n"
            )
    return 0 if report.ok else 1
