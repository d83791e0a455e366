from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class LoginThrottle(SimpleRateThrottle):
    """Failed logins per client address (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"]).

    Only failures count, so scripts that log in often with the right password are never slowed
    down; once the address used up its failures, every login from it answers 429 until the
    window has passed. The view calls ``note_failure`` after a wrong password."""

    scope = "login"

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request: Request, view: Any) -> bool:
        self.key = self.get_cache_key(request, view)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return True

    @classmethod
    def note_failure(cls, request: Request, view: Any) -> None:
        throttle = cls()
        throttle.allow_request(request, view)
        throttle.history.insert(0, throttle.now)
        throttle.cache.set(throttle.key, throttle.history, throttle.duration)
