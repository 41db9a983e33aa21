"""The one place where errors become HTTP responses (RFC 9457 problem details)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ehrlich import errors
from ehrlich.consent.errors import SignupsClosed
from ehrlich.crypto import TokenExpired, TokenInvalid

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("ehrlich.web")

STATUS: list[tuple[type[errors.EhrlichError], int, str]] = [
    (errors.InvalidInput, 422, "invalid-input"),
    (TokenExpired, 410, "token-expired"),
    (TokenInvalid, 400, "token-invalid"),
    (errors.NotAuthenticated, 401, "not-authenticated"),
    (errors.NotAllowed, 403, "forbidden"),
    (errors.NotFound, 404, "not-found"),
    (errors.Gone, 410, "gone"),
    (errors.Conflict, 409, "conflict"),
    (errors.IntegrityFailure, 500, "integrity-failure"),
    (errors.ConfigurationError, 503, "configuration"),
    (SignupsClosed, 503, "signups-closed"),
]


def problem(status: int, kind: str, title: str, detail: str,
            fields: list[dict[str, str]] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": f"urn:ehrlich:problem:{kind}", "title": title,
                            "status": status, "detail": detail}
    if fields:
        body["errors"] = fields
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = []
    malformed = False
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            malformed = True
            fields.append({"field": "body", "reason": f"is not valid JSON ({err.get('msg')})"})
            continue
        reason = str(err.get("msg", "is invalid"))
        if err.get("type") == "extra_forbidden":
            reason = "is not a known field"
        reason = reason.removeprefix("Value error, ")
        fields.append({"field": _field_name(tuple(err.get("loc", ()))), "reason": reason})
    status = 400 if malformed else 422
    detail = "; ".join(f"{f['field']}: {f['reason']}" for f in fields)
    return problem(status, "malformed-body" if malformed else "invalid-input",
                   "Malformed request" if malformed else "Invalid input", detail, fields)


def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.EhrlichError)
    status, kind = next(((s, k) for cls, s, k in STATUS if isinstance(exc, cls)),
                        (400, "request-failed"))
    fields = None
    if isinstance(exc, errors.InvalidInput):
        fields = [{"field": p.field, "reason": p.reason} for p in exc.problems]
    if status >= 500:
        log.error("request failed: %s", exc.message)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(status, kind, exc.title, exc.message, fields, headers)


def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, "http", str(exc.detail), str(exc.detail),
                   headers=getattr(exc, "headers", None))


def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    """A shared service (database, Redis) did not answer: say so, and when to retry."""
    log.error("backing service unavailable: %s", exc)
    return problem(503, "unavailable", "Service unavailable",
                   "a service ehrlich depends on did not answer; nothing was changed, "
                   "try again in a minute", headers={"Retry-After": "30"})


def _unstorable(_: Request, exc: Exception) -> JSONResponse:
    """The database refused a value (a NUL character, a number out of its range) while
    looking something up or storing it; the transaction was rolled back."""
    log.warning("value refused by the database: %s", exc.__class__.__name__)
    return problem(422, "invalid-input", "Invalid input",
                   "a value in the request cannot be used (a control character, or a number "
                   "out of range); nothing was changed")


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return problem(500, "internal", "Internal error",
                   "something went wrong on our side; nothing was changed")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(errors.EhrlichError, _domain)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(OperationalError, _unavailable)
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(RedisError, _unavailable)
    app.add_exception_handler(Exception, _unexpected)
