"""The socket.io channel for the website widget (rasa-webchat 1.0.1), fixing Rasa 3.6.21's own.

Named in credentials.yml as `connectors.socketio.PersistentSocketIOInput`. Why not Rasa's
`SocketIOInput` as it is:

- With `session_persistence: true` Rasa calls `sio.enter_room(...)` without `await` (a coroutine
  since python-socketio 5.10), so the socket never joins its session's room and no reply ever
  arrives. Here the call is awaited, and conversations survive a page reload.
- Rasa's output sends a custom payload as `sio.emit(event, **payload)`, which raises TypeError
  for our `{"type": "service_answer", ...}` payloads; here it is sent as `{"custom": payload}`.
- Rasa trusts the `session_id` in every message, so any socket can speak in any conversation
  whose id it knows; here a socket speaks only for the session the server confirmed to it.
- Rasa confirms whatever session id a socket asks for, so a second socket could join another
  visitor's room and receive all its replies; here ids are issued by the server and signed
  (`web-<random>.<HMAC>`, session_ids.py), and a socket asking for any other id gets a new one.
- Messages are rate limited per conversation and per client address (rate_limit.py): over the
  limit, a `rate_limited` event says why and when to retry, and the message is not processed.
- Rasa turns engine.io's Origin check off; here every request, WebSocket included, must come
  from a configured origin (`cors_allowed_origins`; default: the local chat page).
- Bad input (not an object, no text, too long, metadata that is not an object) is refused with
  an `invalid_message` event that says why, instead of an exception in the server log.
- A turn's replies are sent once the turn is stored; a message that could not be processed or
  stored (PostgreSQL or Redis failing) gets the polite "please try again" reply (turn_guard.py)
  instead of silence.

It runs inside the Rasa server (.venvs/rasa, Python 3.10) and uses only Rasa's dependencies.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage, decode_bearer_token
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from connectors.rate_limit import MessageLimits
from connectors.session_ids import SessionIds, load_secret
from connectors.turn_guard import agent_domain, apology, handle_turn, message_language

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000  # longer than any real question; keeps the NLU and search fast
MAX_METADATA_BYTES = 2048  # the widget sends {"language": "fi"}; nothing needs more
MAX_PACKET_BYTES = 64 * 1024  # engine.io's default is 1 MB per packet
INVALID_EVENT = "invalid_message"
RATE_LIMITED_EVENT = "rate_limited"
# sanic-cors (Rasa's --cors) marks requests it has handled with this attribute and then skips
# them; engine.io answers CORS on its own path, and two Access-Control-Allow-Origin headers
# make browsers refuse the response.
SANIC_CORS_EVALUATED = "_sanic_cors_e"


def default_origins(environ: dict[str, str] | None = None) -> list[str]:
    """The local chat page's origin, from the same OPASTIN_* settings the page server uses."""
    environ = dict(os.environ if environ is None else environ)
    host = environ.get("OPASTIN_HOST") or "127.0.0.1"
    port = environ.get("OPASTIN_WEB_PORT") or "8000"
    hosts = ["127.0.0.1", "localhost"] if host in ("127.0.0.1", "localhost", "0.0.0.0") else [host]
    return [f"http://{name}:{port}" for name in hosts]


def parse_origins(value: str | Iterable[str] | None) -> list[str] | str:
    """`cors_allowed_origins` from credentials.yml: a list, a comma/space separated string or '*'.

    Empty means the local chat page only; a trailing slash is dropped because browsers send
    origins without one and engine.io compares strings.
    """
    if value is None or value == "":
        return default_origins()
    items = re.split(r"[\s,]+", value) if isinstance(value, str) else [str(v) for v in value]
    origins = [item.strip().rstrip("/") for item in items if item and item.strip()]
    if "*" in origins:
        return "*"
    bad = [o for o in origins if not re.match(r"^https?://[^/\s]+$", o)]
    if bad:
        raise ValueError(f"cors_allowed_origins: not an origin (scheme://host[:port]): {bad}")
    return origins or default_origins()


def session_binding_error(confirmed: str | None, data: dict[str, Any]) -> str | None:
    """Why a socket may not send this message for its session, or None when it may.

    A socket speaks only for the session the server confirmed to it, whatever `session_id` the
    message names (Rasa's own channel trusts that field).
    """
    if not confirmed:
        return "send session_request first and wait for session_confirm"
    if data.get("session_id") not in (None, confirmed):
        return "session_id differs from the session confirmed to this socket"
    return None


class WebchatOutput(SocketIOOutput):
    """Rasa's socket.io output, but custom payloads are sent as `{"custom": payload}`."""

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class HeldWebchatOutput(WebchatOutput):
    """Holds a turn's replies until the turn is stored (turn_guard.py), then sends them."""

    def __init__(self, sio: AsyncServer, bot_message_evt: str) -> None:
        super().__init__(sio, bot_message_evt)
        self.held: list[tuple[str, Any]] = []

    async def _send_message(self, socket_id: str, message: Any) -> None:
        self.held.append((socket_id, message))

    async def release(self) -> None:
        for socket_id, held in self.held:
            await super()._send_message(socket_id, held)
        self.held.clear()


class _CorsAwareBlueprint(SocketBlueprint):
    """Attaches the socket.io server like Rasa does, keeping sanic-cors off its path."""

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        sio: AsyncServer = self.ctx.sio
        path = "/" + self.ctx.socketio_path.strip("/") + "/"

        async def engineio(request: Request) -> HTTPResponse | None:
            setattr(request.ctx, SANIC_CORS_EVALUATED, "1")
            return await sio.handle_request(request)

        self.ctx.app = app  # its agent's domain has the "please try again" texts
        app.add_route(engineio, path, methods=["GET", "POST", "OPTIONS"], name="opastin_socketio")
        app.enable_websocket()
        Blueprint.register(self, app, options)


class PersistentSocketIOInput(SocketIOInput):
    """Rasa's socket.io input channel with the defects above fixed; same events, same name."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            bool(credentials.get("session_persistence", False)),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("jwt_key"),
            credentials.get("jwt_method", "HS256"),
            credentials.get("metadata_key", "metadata"),
            cors_allowed_origins=parse_origins(credentials.get("cors_allowed_origins")),
            max_message_chars=int(credentials.get("max_message_chars", MAX_MESSAGE_CHARS)),
            session_ids=SessionIds(load_secret()),
            limits=MessageLimits.from_env(),
        )

    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        namespace: str | None = None,
        session_persistence: bool = False,
        socketio_path: str | None = "/socket.io",
        jwt_key: str | None = None,
        jwt_method: str | None = "HS256",
        metadata_key: str | None = "metadata",
        *,
        cors_allowed_origins: list[str] | str | None = None,
        max_message_chars: int = MAX_MESSAGE_CHARS,
        session_ids: SessionIds | None = None,
        limits: MessageLimits | None = None,
    ) -> None:
        super().__init__(
            user_message_evt,
            bot_message_evt,
            namespace,
            session_persistence,
            socketio_path,
            jwt_key,
            jwt_method,
            metadata_key,
        )
        self.cors_allowed_origins = (
            default_origins() if cors_allowed_origins is None else cors_allowed_origins
        )
        self.max_message_chars = max_message_chars
        # Read at construction, i.e. when Rasa starts: a bad secret or limit stops the start.
        self.session_ids = session_ids or SessionIds(load_secret())
        self.limits = limits or MessageLimits.from_env()

    def get_output_channel(self) -> OutputChannel | None:
        """Used by Rasa for messages it sends on its own (reminders, external events)."""
        if self.sio is None:
            return super().get_output_channel()
        return WebchatOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The socket.io server and its event handlers, as a Sanic blueprint."""
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.cors_allowed_origins,
            max_http_buffer_size=MAX_PACKET_BYTES,
        )
        self.sio = sio
        socketio_webhook = _CorsAwareBlueprint(
            sio, self.socketio_path, "socketio_webhook", __name__
        )
        namespace = self.namespace
        logger.info("socket.io channel: allowed origins %s", self.cors_allowed_origins)

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: dict | None = None) -> bool:
            # engine.io's Sanic driver puts a fixed 127.0.0.1 in REMOTE_ADDR: ask Sanic.
            ip = getattr(environ.get("sanic.request"), "ip", None)
            await sio.save_session(sid, {"ip": ip}, namespace=namespace)
            if not self.jwt_key:
                return True
            token = auth.get("token") if isinstance(auth, dict) else None
            return bool(token and decode_bearer_token(token, self.jwt_key, self.jwt_algorithm))

        @sio.on("disconnect", namespace=namespace)
        async def disconnect(sid: str, *_: Any) -> None:
            logger.debug("socket %s disconnected", sid)

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = self.session_ids.resume_or_issue(requested)
            session = await sio.get_session(sid, namespace=namespace)
            if self.session_persistence:
                previous = session.get("session_id")
                if previous and previous != session_id:
                    await sio.leave_room(sid, previous, namespace=namespace)
                await sio.enter_room(sid, session_id, namespace=namespace)
            await sio.save_session(sid, {**session, "session_id": session_id}, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any = None) -> None:
            try:
                text, metadata = self._validate(data)
            except ValueError as error:
                await sio.emit(INVALID_EVENT, {"reason": str(error)}, room=sid, namespace=namespace)
                return
            session = await sio.get_session(sid, namespace=namespace)
            if self.session_persistence:
                sender_id = session.get("session_id")
                reason = session_binding_error(sender_id, data)
                if reason:
                    await sio.emit(INVALID_EVENT, {"reason": reason}, room=sid, namespace=namespace)
                    return
            else:
                sender_id = sid
            refusal = self.limits.refusal(sender_id, session.get("ip"))
            if refusal:
                retry_after, reason = refusal
                await sio.emit(
                    RATE_LIMITED_EVENT,
                    {"reason": reason, "retry_after": retry_after},
                    room=sid,
                    namespace=namespace,
                )
                return
            output = HeldWebchatOutput(sio, self.bot_message_evt)
            message = UserMessage(
                text, output, sender_id, input_channel=self.name(), metadata=metadata
            )
            if await handle_turn(on_new_message, message):  # not processed or not stored
                domain = agent_domain(getattr(socketio_webhook.ctx, "app", None))
                polite = apology(domain, message_language(metadata))
                await WebchatOutput(sio, self.bot_message_evt).send_response(sender_id, polite)
                return
            await output.release()

        return socketio_webhook

    def _validate(self, data: Any) -> tuple[str, dict[str, Any]]:
        """The message text and metadata, or ValueError saying what is wrong."""
        if not isinstance(data, dict):
            raise ValueError('expected an object {"message": "...", "session_id": "..."}')
        text = data.get("message")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("message must be non-empty text")
        if len(text) > self.max_message_chars:
            raise ValueError(f"message longer than {self.max_message_chars} characters")
        metadata = data.get(self.metadata_key) or {}
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                raise ValueError(f"{self.metadata_key} is not valid JSON") from None
        if not isinstance(metadata, dict):
            raise ValueError(f"{self.metadata_key} must be an object")
        if len(json.dumps(metadata)) > MAX_METADATA_BYTES:
            raise ValueError(f"{self.metadata_key} larger than {MAX_METADATA_BYTES} bytes")
        return text, metadata
