"""Start the action server: check settings and load the search index first, then serve.

A missing or corrupt index stops the start-up here with a message that says how to build
it, instead of failing on the first user question. Browsers get no CORS permission: only Rasa
calls this server.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from embeddings.index import IndexError_
from knowledge.loader import CorpusError
from opastin.config import settings

# Only Rasa calls the action server, server to server; no browser ever should. rasa-sdk's
# default ("*") would let any web page a staff member or neighbour opens post to /webhook from
# their browser. None: no Access-Control-Allow-Origin on any response (docs/security.md).
CORS_ORIGINS = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m actions.server")
    parser.add_argument("--port", type=int, default=None, help="default: OPASTIN_ACTIONS_PORT")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = settings()
    from actions.engine import get_engine

    try:
        engine = get_engine()
    except (IndexError_, CorpusError) as error:
        print(f"error: the action server cannot start: {error}", file=sys.stderr)
        return 2
    manifest = engine.manifest
    logging.getLogger("actions").info(
        "search index: %s passages, %s services, %s/%s",
        manifest.passages,
        manifest.services,
        manifest.backend,
        manifest.model,
    )
    from actions.language_detection import LanguageDataError, warm_up
    from actions.residence import CuesError, reader
    from opastin.nlu_text import NluFileError

    try:
        warm_up()  # the language detection's data and models, before the first message
        reader()  # compiles the nationality phrases now, not on the first user message
    except (CuesError, LanguageDataError, NluFileError) as error:
        print(f"error: the action server cannot start: {error}", file=sys.stderr)
        return 2
    from actions.memory_release import install

    install(config.memory_release_seconds)
    from rasa_sdk.endpoint import run
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    os.environ.setdefault("SANIC_HOST", config.host)
    run(executor, port=args.port or config.actions_port, cors_origins=CORS_ORIGINS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
