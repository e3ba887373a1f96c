"""A stand-in Rasa server for the widget's safety tests: our real socket.io connector, no model.

It echoes every user message back as bot text, with a service_answer custom payload, so a test
can make "the bot" say anything (HTML, script tags, javascript: links) and check what the
browser does with it. The Sanic app is set up as `rasa run` sets up its own (root route,
sanic-cors with the given --cors origins, channels under /webhooks/). The REST channel is
mounted too, so the connectors' namespaces and rate limits can be tried without a model
(tests/rasa_venv/test_connector_limits.py); both read OPASTIN_* settings from the environment.

Run with the Rasa venv: PYTHONPATH=bot .venvs/rasa/bin/python tests/browser/echo_bot.py --port N
"""

from __future__ import annotations

import argparse
import logging

from connectors.rest import ValidatedRestInput
from connectors.socketio import PersistentSocketIOInput, parse_origins
from rasa.core.channels.channel import UserMessage
from rasa.server import add_root_route, configure_cors
from sanic import Sanic


def build_app(origins: str, cors: list[str] | None) -> Sanic:
    app = Sanic("opastin_echo_bot", configure_logging=False)
    add_root_route(app)
    configure_cors(app, cors)
    channel = PersistentSocketIOInput(
        session_persistence=True,
        metadata_key="customData",
        cors_allowed_origins=parse_origins(origins),
    )

    async def echo(message: UserMessage) -> None:
        language = (message.metadata or {}).get("language", "?")
        await message.output_channel.send_response(
            message.sender_id,
            {
                "text": f"Echo ({language}): {message.text}\nOfficial page: https://www.vero.fi/en/",
                "custom": {
                    "type": "service_answer",
                    "organisations": [
                        {"id": "vero", "name": message.text, "url": "https://www.vero.fi/en/"}
                    ],
                    "services": [],
                    "confidence": 1.0,
                    "language": language,
                },
            },
        )

    app.blueprint(channel.blueprint(echo), url_prefix="/webhooks/socketio")
    app.blueprint(ValidatedRestInput().blueprint(echo), url_prefix="/webhooks/rest")
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--origins", default="", help="the connector's cors_allowed_origins")
    parser.add_argument("--cors", nargs="*", default=None, help="like `rasa run --cors`")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    build_app(args.origins, args.cors).run(
        host="127.0.0.1", port=args.port, access_log=False, motd=False
    )


if __name__ == "__main__":
    main()
