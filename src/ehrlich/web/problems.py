"""The one place where errors become HTTP responses (RFC 9457 problem details).

Pages meant for people (the console under /admin) register an error page of their own
for their path prefix: the same status, in their layout and language, instead of JSON.
Elsewhere a browser (a request that asks for HTML, outside /api) gets the public error
page (`web.error_pages`); the API and scripts get problem details.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ehrlich import errors
from ehrlich.consent.errors import SignupsClosed
from ehrlich.crypto import TokenExpired, TokenInvalid
from ehrlich.web.error_pages import public_error_page, wants_html

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


# Renders an error for people: (request, status, fields refused) -> the page.
ErrorPage = Callable[[Request, int, list[dict[str, str]]], Response]


def register_error_page(app: FastAPI, prefix: str, render: ErrorPage) -> None:
    """Answer errors under `prefix` (and its sub-paths) with `render` instead of JSON."""
    pages: list[tuple[str, ErrorPage]] = getattr(app.state, "error_pages", [])
    app.state.error_pages = [*pages, (prefix.rstrip("/"), render)]


def _page_for(request: Request) -> ErrorPage | None:
    path = request.url.path
    for prefix, render in getattr(request.app.state, "error_pages", []):
        if path == prefix or path.startswith(prefix + "/"):
            return render  # type: ignore[no-any-return]
    return public_error_page if wants_html(request) else None


def _answer(request: Request, response: JSONResponse,
            fields: list[dict[str, str]] | None = None) -> Response:
    """`response`, or the error page registered for the request's path."""
    render = _page_for(request)
    if render is None:
        return response
    try:
        page = render(request, response.status_code, fields or [])
    except Exception:  # the page itself failed: the plain problem still answers
        log.exception("error page failed")
        return response
    for name in ("www-authenticate", "allow", "retry-after"):
        if name in response.headers:
            page.headers[name] = response.headers[name]
    return page


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


def _validation(request: Request, exc: Exception) -> Response:
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
    return _answer(request, problem(status, "malformed-body" if malformed else "invalid-input",
                                    "Malformed request" if malformed else "Invalid input",
                                    detail, fields), fields)


def _domain(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.EhrlichError)
    status, kind = next(((s, k) for cls, s, k in STATUS if isinstance(exc, cls)),
                        (400, "request-failed"))
    fields = None
    if isinstance(exc, errors.InvalidInput):
        fields = [{"field": p.field, "reason": p.reason} for p in exc.problems]
    if status >= 500:
        log.error("request failed: %s", exc.message)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return _answer(request, problem(status, kind, exc.title, exc.message, fields, headers),
                   fields)


def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return _answer(request, problem(exc.status_code, "http", str(exc.detail), str(exc.detail),
                                    headers=getattr(exc, "headers", None)))


def _unavailable(request: Request, exc: Exception) -> Response:
    """A shared service (database, Redis) did not answer: say so, and when to retry."""
    log.error("backing service unavailable: %s", exc)
    return _answer(request, problem(503, "unavailable", "Service unavailable",
                   "a service ehrlich depends on did not answer; nothing was changed, "
                   "try again in a minute", headers={"Retry-After": "30"}))


def _unstorable(request: Request, exc: Exception) -> Response:
    """The database refused a value (a NUL character, a number out of its range) while
    looking something up or storing it; the transaction was rolled back."""
    log.warning("value refused by the database: %s", exc.__class__.__name__)
    return _answer(request, problem(
        422, "invalid-input", "Invalid input", "a value in the request cannot be used (a "
        "control character, or a number out of range); nothing was changed"))


def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    return _answer(request, problem(500, "internal", "Internal error",
                                    "something went wrong on our side; nothing was changed"))


def install(app: FastAPI, *, redis: bool = False) -> None:
    """The handlers; `redis`: the process uses Redis (its library is imported only then)."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(errors.EhrlichError, _domain)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(OperationalError, _unavailable)
    app.add_exception_handler(DataError, _unstorable)
    if redis:
        from redis.exceptions import RedisError

        app.add_exception_handler(RedisError, _unavailable)
    app.add_exception_handler(Exception, _unexpected)
