"""Queries and predictions through Redis, so that web processes and inference workers can
run on different machines and several web processes can share one inference job.

Keys (``rafiki:inference:`` prefix):

- ``{job}:{trial}:requests``: a list per served trial. A web process pushes each request to
  the list of every trial of the job (each trial answers, then the web ensembles). Message:
  one line of JSON ``{"id", "reply", "count", "deadline"}`` (deadline: Unix time after which
  no one waits), a newline, then the JSON array of the ``count`` queries. The worker hands
  the array to the model process as it came, never decoding it (a batch of images is a lot
  of JSON: each decode or encode of 64 small images costs ~2.5 ms).
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
    #: The JSON array of the queries, as the web process encoded it.
    queries_json: str
    #: How many queries the array holds.
    count: int
    deadline: float

    @property
    def queries(self) -> list[Any]:
        return json.loads(self.queries_json)


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
        header = json.dumps(
            {
                "id": request_id,
                "reply": reply,
                "count": len(queries),
                "deadline": time.time() + timeout,
            },
            separators=(",", ":"),
        )
        message = f"{header}\n{json.dumps(queries, separators=(',', ':'))}"
        deadline = time.monotonic() + timeout
        pipe = self.redis.pipeline(transaction=False)
        for trial_id in trial_ids:
            key = request_key(job_id, trial_id)
            pipe.rpush(key, message)
            pipe.expire(key, REQUEST_TTL_SECONDS)
        # The wait for the first answer rides in the same round trip (Redis runs a pipeline's
        # commands in order on this connection).
        # BLPOP's timeout is in seconds (fractions allowed since Redis 6); 0 would block
        # forever, so never pass less than a millisecond.
        pipe.blpop([reply], timeout=max(timeout, 0.001))
        item = pipe.execute()[-1]
        answers: dict[int, Answer] = {}
        # No DELETE afterwards: a list popped empty is gone, and an answer that arrives after
        # the deadline expires with its key (REPLY_TTL_SECONDS).
        while item is not None:
            data = json.loads(item[1])
            trial_id = int(data["trial"])
            if trial_id in trial_ids:
                answers[trial_id] = Answer(trial_id, data.get("predictions"), data.get("error"))
            remaining = deadline - time.monotonic()
            if len(answers) == len(trial_ids) or remaining <= 0:
                break
            item = self.redis.blpop([reply], timeout=max(remaining, 0.001))
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
            text = item.decode() if isinstance(item, bytes) else item
            # json.dumps escapes newlines: the first one ends the header.
            header, _, queries_json = text.partition("\n")
            try:
                data = json.loads(header)
                request = Request(
                    str(data["id"]),
                    str(data["reply"]),
                    queries_json,
                    int(data["count"]),
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
        self.reply_all(trial_id, [(request, predictions, error)])

    def reply_all(
        self, trial_id: int, replies: list[tuple[Request, list[Any] | None, str | None]]
    ) -> None:
        """Answer several requests in one round trip: (request, predictions, error) each,
        ``error`` None for an answer."""
        pipe = self.redis.pipeline(transaction=False)
        for request, predictions, error in replies:
            body: dict[str, Any] = {"trial": trial_id}
            if error is not None:
                body["error"] = error
            else:
                body["predictions"] = predictions
            pipe.rpush(request.reply, json.dumps(body, separators=(",", ":")))
            pipe.expire(request.reply, REPLY_TTL_SECONDS)
        pipe.execute()
