"""The OpenAPI document as the server behaves: every error an operation can answer is
listed, as the RFC 9457 problem details that `web.problems` sends.

FastAPI lists only the success and a 422 in its own validation-error shape. Generated
clients and contract testers (schemathesis) read the document literally, so the
answers `web.problems` and the body limit give are added here, once, for every route.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ehrlich.web.problems import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "Problem details (RFC 9457); `errors` names each field that was refused.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "urn:ehrlich:problem:<kind>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "reason"],
            "properties": {"field": {"type": "string"}, "reason": {"type": "string"}}}},
    },
}
_REF = {"$ref": "#/components/schemas/Problem"}

ANSWERS: dict[str, str] = {
    "400": "Malformed request (the body is not valid JSON)",
    "401": "No valid API token (`Authorization: Bearer <token>`)",
    "403": "The token lacks the scope this operation needs",
    "404": "Not found",
    "413": "The request body is larger than the configured limit",
    "422": "Invalid input; `errors` names each field and the reason",
}


def _answers_for(operation: dict[str, Any], path: str) -> list[str]:
    takes_input = bool(operation.get("parameters")) or "requestBody" in operation
    statuses = ["422"] if takes_input or "422" in operation["responses"] else []
    if not path.startswith("/api/"):
        return statuses  # public pages answer unknown links like known ones (RFC 8058)
    if operation.get("security"):
        statuses += ["401", "403"]
    if "{" in path:
        statuses.append("404")
    if "requestBody" in operation:
        statuses += ["400", "413"]
    return statuses


def document_problems(spec: dict[str, Any]) -> dict[str, Any]:
    """Add the problem answers to every operation of `spec` (changed in place)."""
    for path, item in spec.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status in _answers_for(operation, path):
                responses[status] = {"description": ANSWERS[status],
                                     "content": {PROBLEM_JSON: {"schema": _REF}}}
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas.pop("HTTPValidationError", None)  # the shape FastAPI would send; ours differs
    schemas.pop("ValidationError", None)
    return spec


def install(app: FastAPI) -> None:
    """Serve the completed document at `app.openapi_url` (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(get_openapi(
                title=app.title, version=app.version, routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
