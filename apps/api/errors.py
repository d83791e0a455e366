"""One error shape for both HTTP APIs: ``{"error": "<Name>", "detail": "<text>"}``.

Service errors (``InvalidModelError``, ``InvalidTrainJobError``...) keep their names, as
Rafiki's clients match on them; DRF and Django request errors get stable names too.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import (
    PermissionDenied as DjangoPermissionDenied,
)
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response


class ApiError(exceptions.APIException):
    """An error with a name for the body: ``raise ApiError("no such trial", error="InvalidTrialError", status_code=404)``."""

    status_code = status.HTTP_400_BAD_REQUEST
    error = "InvalidRequestError"

    def __init__(self, detail: str, *, error: str | None = None, status_code: int | None = None):
        super().__init__(detail)
        if error:
            self.error = error
        if status_code:
            self.status_code = status_code


def not_found(what: str, error: str = "NotFoundError") -> ApiError:
    return ApiError(f"{what} does not exist or is not visible to you", error=error, status_code=404)


# Service exceptions whose public name differs from the class name.
_RENAMED = {"InvalidDatasetUploadError": "InvalidDatasetError"}

_DRF_NAMES: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.NotAuthenticated, "UnauthorizedError"),
    (exceptions.AuthenticationFailed, "UnauthorizedError"),
    (exceptions.PermissionDenied, "ForbiddenError"),
    (exceptions.NotFound, "NotFoundError"),
    (exceptions.MethodNotAllowed, "MethodNotAllowedError"),
    (exceptions.NotAcceptable, "NotAcceptableError"),
    (exceptions.UnsupportedMediaType, "UnsupportedMediaTypeError"),
    (exceptions.Throttled, "TooManyRequestsError"),
    (exceptions.ParseError, "MalformedRequestError"),
    (exceptions.ValidationError, "InvalidRequestError"),
]


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    if isinstance(detail, dict):
        out: list[str] = []
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_flatten(value, "" if key == "non_field_errors" else name))
        return out
    if isinstance(detail, list):
        return [line for item in detail for line in _flatten(item, prefix)]
    return [f"{prefix}: {detail}" if prefix else str(detail)]


def error_body(error: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": error, "detail": detail, **extra}


def _drf_name(exc: exceptions.APIException) -> str:
    for cls, name in _DRF_NAMES:
        if isinstance(exc, cls):
            return name
    return type(exc).__name__


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]. A view may rename errors by status code with a
    ``error_names`` dict attribute (the Rafiki-compatible API names 403 UnauthorizedError)."""
    view = context.get("view")
    renames: dict[int, str] = getattr(view, "error_names", {}) or {}
    headers: dict[str, str] = {}

    if isinstance(exc, ApiError):
        code, name, detail = exc.status_code, exc.error, str(exc.detail)
    elif isinstance(exc, exceptions.APIException):
        code, name = exc.status_code, _drf_name(exc)
        if isinstance(exc, exceptions.ValidationError):
            detail = "; ".join(_flatten(exc.detail)) or "invalid request"
        else:
            detail = " ".join(_flatten(exc.detail))
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            auth_header = getattr(exc, "auth_header", None)
            if auth_header:
                headers["WWW-Authenticate"] = auth_header
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait))
    elif isinstance(exc, Http404):
        code, name, detail = 404, "NotFoundError", "not found"
    elif isinstance(exc, DjangoPermissionDenied):
        code, name, detail = 403, "ForbiddenError", str(exc) or "permission denied"
    elif isinstance(exc, RequestDataTooBig):
        code, name, detail = 413, "RequestTooLargeError", "the request body is too large"
    elif isinstance(exc, TooManyFilesSent):
        code, name, detail = 400, "TooManyFilesError", "too many files in one request"
    elif isinstance(exc, TooManyFieldsSent):
        code, name, detail = 400, "TooManyFieldsError", "too many fields in one request"
    elif isinstance(exc, SuspiciousOperation):
        code, name, detail = 400, "MalformedRequestError", "the request was refused as malformed"
    elif isinstance(exc, DjangoValidationError):
        # Service errors: the class name is the error name (InvalidModelError...).
        code = 400
        name = _RENAMED.get(type(exc).__name__, type(exc).__name__)
        if name == "ValidationError":
            name = "InvalidRequestError"
        detail = "; ".join(exc.messages)
    else:
        return None  # a bug: Django logs it and answers 500 (JSON through handler500)

    name = renames.get(code, name)
    return Response(error_body(name, detail), status=code, headers=headers)


def json_404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("NotFoundError", f"no route {request.path}"), status=404)


def json_500(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        error_body("ServerError", "the server failed; the error is in its log"), status=500
    )


def json_400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("MalformedRequestError", "bad request"), status=400)


def json_403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("ForbiddenError", "permission denied"), status=403)
