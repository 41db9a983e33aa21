"""ASGI middleware: request body limit and security headers on every response."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),  # keeps Origin on same-site form posts
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
]
# Pages under this prefix (the embeddable signup form) may be framed by other sites.
EMBED_PREFIX = "/embed/"


def _embed_csp(frame_ancestors: str) -> bytes:
    """The CSP of embeddable pages: framed only by the listed origins (any https: site
    when none are listed, EHRLICH_SIGNUP_ORIGINS)."""
    ancestors = " ".join(o for o in frame_ancestors.split() if o.isprintable()
                         and ";" not in o and "," not in o) or "https:"
    return (b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors "
            + ancestors.encode("ascii", "ignore"))
_API_DOCS_CSP = (b"default-src 'self'; img-src 'self' data:; object-src 'none'; "
                 b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _too_large(limit: int) -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = json.dumps({
        "type": "urn:ehrlich:problem:too-large", "title": "Request body too large",
        "status": 413, "detail": f"the request body is larger than {limit} bytes",
        "errors": [{"field": "body", "reason": f"is larger than {limit} bytes"}],
    }).encode()
    return [(b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode())], body


class BodyLimit:
    """Refuse bodies over `limit` bytes before the app reads them (413).

    A body without Content-Length (chunked transfer coding) is read here first, up to
    the limit, and handed on whole: the app would otherwise see the refusal as a broken
    body and answer 400.
    """

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._reject(send)
            return
        if declared is None:
            buffered = await self._read_up_to_limit(receive)
            if buffered is None:
                await self._reject(send)
                return
            receive = _replay(buffered, receive)
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await self._reject(send)

    async def _read_up_to_limit(self, receive: Receive) -> Message | None:
        """The whole body as one message, or None once it passes the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return message  # the client went away; pass that on
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

    async def _reject(self, send: Send) -> None:
        headers, body = _too_large(self.limit)
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _replay(first: Message, receive: Receive) -> Receive:
    """A receive channel that yields `first`, then whatever the server sends next."""
    pending = [first]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


class _BodyTooLarge(Exception):
    pass


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool, frame_ancestors: str = "") -> None:
        self.app = app
        self.hsts = hsts
        self.embed_csp = _embed_csp(frame_ancestors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                embed = path.startswith(EMBED_PREFIX)
                for name, value in SECURITY_HEADERS:
                    if name in present or (embed and name == b"x-frame-options"):
                        continue
                    if embed and name == b"content-security-policy":
                        value = self.embed_csp  # noqa: PLW2901 - the one exception
                    docs = name == b"content-security-policy" and path.startswith("/api/docs")
                    headers.append((name, _API_DOCS_CSP if docs else value))
                if self.hsts:
                    headers.append((b"strict-transport-security",
                                    b"max-age=63072000; includeSubDomains"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
