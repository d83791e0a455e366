from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request


class LenientContentNegotiation(DefaultContentNegotiation):
    """JSON whatever the Accept header says: file downloads (octet-stream) and scripts that send
    an unusual Accept get an answer rather than 406."""

    def select_renderer(
        self, request: Request, renderers: list, format_suffix: Any = None
    ) -> tuple:
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type
