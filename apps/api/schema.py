"""OpenAPI post-processing: document the one error shape on every operation."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "description": 'Every error: `{"error": "<Name>", "detail": "<text>"}`.',
    "properties": {
        "error": {"type": "string", "example": "InvalidTrainJobError"},
        "detail": {"type": "string"},
    },
    "required": ["error", "detail"],
}

_DESCRIPTIONS = {
    "400": "Invalid request (the error names the problem, e.g. InvalidRequestError, InvalidModelError)",
    "401": "UnauthorizedError: no valid token or session",
    "403": "ForbiddenError: your role may not do this (or the CSRF token is missing)",
    "404": "Not found, or not visible to you",
    "429": "TooManyRequestsError: too many failed logins from this address",
}


def add_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]: add the Error component and 4xx answers."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = ["400", "401", "403", "404"]
            if path.endswith("/tokens/") and method == "post":
                codes = ["400", "401", "429"]
            for code in codes:
                operation["responses"].setdefault(
                    code, {"description": _DESCRIPTIONS[code], "content": ref}
                )
    return result
