"""The `opastin` command (also `python -m opastin`): one entry point for the everyday tasks.

    opastin run          prepare what is missing, start everything, serve the chat page
    opastin prepare      only build the index and train the model (used by the tests)
    opastin shell        talk to the bot in this terminal with Rasa's own `rasa shell`
    opastin interactive  `rasa interactive` on our data (new stories and NLU go to bot/data)
    opastin eval         the retrieval evaluation (tools/eval/retrieval.py), from a checkout

Arguments after the command go to Rasa (shell, interactive) or to the evaluation (eval).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import time

from opastin.config import ROOT, Settings
from opastin.serving import serve_until_signal
from opastin.stack import log, prepare, rasa_terminal, running_stack
from opastin.web import make_app

COMMANDS = {
    "run": "prepare what is missing, start the servers and the chat page",
    "prepare": "build the search index and train the Rasa model if their inputs changed",
    "shell": "talk to the bot in this terminal (rasa shell, with the action server)",
    "interactive": "rasa interactive on bot/data, with the action server",
    "eval": "retrieval evaluation over evaluation/dev_questions.yaml (tools, dev checkout)",
}
PASS_THROUGH = ("shell", "interactive", "eval")


def parse(argv: list[str] | None) -> tuple[str, list[str]]:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in PASS_THROUGH:  # even --help goes to Rasa or the evaluation
        return argv[0], argv[1:]
    parser = argparse.ArgumentParser(prog="opastin", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, help_text in COMMANDS.items():
        commands.add_parser(name, help=help_text, description=help_text)
    return parser.parse_args(argv).command, []


def run(settings: Settings) -> int:
    started = time.monotonic()
    with running_stack(settings) as stack:
        log(
            f"action server ready in {stack.ready_seconds['actions']:.0f} s, "
            f"Rasa server ready in {stack.ready_seconds['rasa']:.0f} s"
        )
        url = f"http://{settings.host}:{settings.web_port}/"
        log(f"ready after {time.monotonic() - started:.0f} s. Open the chat page: {url}")
        log(f"Rasa REST channel: {stack.rasa_url}/webhooks/rest/webhook — Ctrl-C stops everything")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(
                serve_until_signal(make_app(stack.rasa_url), settings.host, settings.web_port)
            )
        log("stopping...")
    log("stopped")
    return 0


def evaluate(args: list[str]) -> int:
    """tools/ is a dev package, not installed with the runtime ones: run it from the checkout."""
    if not (ROOT / "tools" / "eval" / "retrieval.py").exists():
        log(f"error: no tools/eval/retrieval.py under {ROOT}; `opastin eval` needs a checkout")
        return 2
    command = [sys.executable, "-m", "tools.eval.retrieval", *args]
    return subprocess.run(command, cwd=ROOT).returncode


def main(argv: list[str] | None = None) -> int:
    command, extra = parse(argv)
    if command == "eval":
        return evaluate(extra)
    settings = Settings.from_env()
    if command == "prepare":
        prepare(settings)
        return 0
    if command in ("shell", "interactive"):
        return rasa_terminal(settings, command, extra)
    return run(settings)


if __name__ == "__main__":
    sys.exit(main())
