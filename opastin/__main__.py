"""`python -m opastin run`: prepare what is missing, start everything, serve the chat page.

`python -m opastin prepare` only builds the index and trains the model (used by the tests).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time

from opastin.config import Settings
from opastin.serving import serve_until_signal
from opastin.stack import ensure_index, ensure_model, log, running_stack
from opastin.web import make_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m opastin")
    parser.add_argument("command", choices=["run", "prepare"])
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "prepare":
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        ensure_index(settings)
        ensure_model(settings)
        return 0
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


if __name__ == "__main__":
    sys.exit(main())
