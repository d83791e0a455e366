"""Queries and predictions through Redis, so that web processes and inference workers can
run on different machines and several web processes can share one inference job.

Keys (``rafiki:inference:`` prefix):

- ``{job}:{trial}:requests``: a list per served trial. A web process pushes each request to
  the list of every trial of the job (each trial answers, then the web ensembles). Message:
  ``{"id", "reply", "queries", "deadline"}`` (deadline: Unix time after which no one waits).
- ``reply:{id}``: a list per request; each trial's worker pushes
  ``{"trial": id, "predictions": [...]}`` or ``{"trial": id, "error": "..."}`` and the key
  expires shortly after, so a late answer leaves nothing behind.

A request list expires after ``REQUEST_TTL_SECONDS`` without a push, so a job whose workers
are all gone leaves nothing in Redis either.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

PREFIX = "rafiki:inference:"
REQUEST_TTL_SECONDS = 3600
REPLY_TTL_SECONDS = 60
#: Clocks of the web and worker machines may differ by this much.
CLOCK_SLACK_SECONDS = 5.0


def request_key(job_id: int, trial_id: int) -> str:
    return f"{PREFIX}{job_id}:{trial_id}:requests"


@dataclass
class Request:
    id: str
    reply: str
    queries: list[Any]
    deadline: float


@dataclass
class Answer:
    trial_id: int
    predictions: list[Any] | None = None
    error: str | None = None


class PredictionBus:
    """``redis``: a ``redis.Redis`` client (decode_responses False or True both work)."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis

    # -- web side ------------------------------------------------------------------------

    def ask(
        self, job_id: int, trial_ids: list[int], queries: list[Any], timeout: float
    ) -> dict[int, Answer]:
        """Send ``queries`` to every trial and wait up to ``timeout`` seconds for their
        answers; returns the answers that arrived, by trial id."""
        request_id = uuid.uuid4().hex
        reply = f"{PREFIX}reply:{request_id}"
        message = json.dumps(
            {
                "id": request_id,
                "reply": reply,
                "queries": queries,
                "deadline": time.time() + timeout,
            },
            separators=(",", ":"),
        )
        pipe = self.redis.pipeline(transaction=False)
        for trial_id in trial_ids:
            key = request_key(job_id, trial_id)
            pipe.rpush(key, message)
            pipe.expire(key, REQUEST_TTL_SECONDS)
        pipe.execute()
        answers: dict[int, Answer] = {}
        deadline = time.monotonic() + timeout
        # No DELETE afterwards: a list popped empty is gone, and an answer that arrives after
        # the deadline expires with its key (REPLY_TTL_SECONDS).
        while len(answers) < len(trial_ids):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            # BLPOP's timeout is in seconds (fractions allowed since Redis 6); 0 would block
            # forever, so never pass less than a millisecond.
            item = self.redis.blpop([reply], timeout=max(remaining, 0.001))
            if item is None:
                break
            data = json.loads(item[1])
            trial_id = int(data["trial"])
            if trial_id in trial_ids:
                answers[trial_id] = Answer(trial_id, data.get("predictions"), data.get("error"))
        return answers

    def drop(self, job_id: int, trial_ids: list[int]) -> None:
        """Forget the job's waiting requests (the job stopped)."""
        if trial_ids:
            self.redis.delete(*[request_key(job_id, t) for t in trial_ids])

    # -- worker side ---------------------------------------------------------------------

    def take(
        self, job_id: int, trial_id: int, *, block_seconds: float, max_requests: int
    ) -> list[Request]:
        """The next requests for this trial (waits up to ``block_seconds`` for the first,
        then takes up to ``max_requests`` already waiting, to answer them in one batch).
        Requests nobody waits for any more are dropped."""
        key = request_key(job_id, trial_id)
        # One round trip: Redis runs the LPOP as soon as the BLPOP returns (a pipeline's
        # commands run in order on this connection).
        if max_requests > 1:
            pipe = self.redis.pipeline(transaction=False)
            pipe.blpop([key], timeout=block_seconds)
            pipe.lpop(key, max_requests - 1)
            first, more = pipe.execute()
        else:
            first, more = self.redis.blpop([key], timeout=block_seconds), None
        # A request pushed between a timed-out BLPOP and the LPOP is in ``more``.
        raw = ([first[1]] if first is not None else []) + list(more or [])
        now = time.time()
        requests = []
        for item in raw:
            try:
                data = json.loads(item)
                request = Request(
                    str(data["id"]),
                    str(data["reply"]),
                    list(data["queries"]),
                    float(data["deadline"]),
                )
            except (ValueError, KeyError, TypeError):
                continue
            if request.deadline + CLOCK_SLACK_SECONDS >= now:
                requests.append(request)
        return requests

    def reply(
        self,
        request: Request,
        trial_id: int,
        *,
        predictions: list[Any] | None = None,
        error: str | None = None,
    ) -> None:
        body: dict[str, Any] = {"trial": trial_id}
        if error is not None:
            body["error"] = error
        else:
            body["predictions"] = predictions
        pipe = self.redis.pipeline(transaction=False)
        pipe.rpush(request.reply, json.dumps(body, separators=(",", ":")))
        pipe.expire(request.reply, REPLY_TTL_SECONDS)
        pipe.execute()
