"""Models, for admins: train a candidate, compare it with the running model, publish it, roll
back (console/training.py does the work)."""

from __future__ import annotations

from aiohttp import web

from console.context import CONSOLE, SESSION, json_error
from console.model_history import KEEP
from console.rasa_client import RasaError
from console.training import PublishRefused


async def overview(request: web.Request) -> web.Response:
    """The training job's progress, the candidate and the running model with their
    evaluations, the published history (rollback targets) and the floors."""
    console = request.app[CONSOLE]
    trainer, history = console.trainer, console.models
    candidate = history.candidate()
    running_error = ""
    try:
        running = await trainer.running_entry()
    except RasaError as error:
        running, running_error = history.running(), str(error)
    return web.json_response(
        {
            "job": trainer.job.as_json(),
            "candidate": candidate.as_json() if candidate else None,
            "running": running.as_json() if running else None,
            "running_error": running_error,
            "history": [e.as_json() for e in history.published()],
            "keep": KEEP,
            # The floors the candidate was judged by, stored with its evaluation by
            # tools/eval/candidate.py (none before the first evaluation).
            "floors": (candidate.evaluation or {}).get("floors") if candidate else None,
        }
    )


async def train(request: web.Request) -> web.Response:
    """Start training a candidate; 409 while one is running."""
    console = request.app[CONSOLE]
    if not console.trainer.start(request[SESSION].user):
        return json_error(409, "a training is already running")
    return web.json_response(console.trainer.job.as_json(), status=202)


async def publish(request: web.Request) -> web.Response:
    """Publish the candidate (only above the floors) or roll back to a published model."""
    console = request.app[CONSOLE]
    try:
        entry = await console.trainer.publish(request.match_info["model_id"], request[SESSION].user)
    except PublishRefused as refused:
        return json_error(refused.status, str(refused))
    return web.json_response(entry.as_json())
