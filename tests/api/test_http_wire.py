"""Request limits and headers as a real uvicorn server answers them, on raw bytes."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
import uvicorn

from ehrlich.app import create_app
from ehrlich.instance.service import Instance
from tests.e2e.servers import free_port

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def server(instance: Instance) -> Iterator[tuple[str, int]]:
    """The app under a real uvicorn on a loopback port, in a thread of this process."""
    port = free_port()
    config = uvicorn.Config(create_app(instance), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    while not running.started:
        if not thread.is_alive():
            pytest.fail("uvicorn did not start")
        thread.join(0.05)  # waiting for start-up, not for logic
    yield "127.0.0.1", port
    running.should_exit = True
    thread.join(15)


def _exchange(address: tuple[str, int], request: bytes) -> bytes:
    """Send raw request bytes; read the answer until the server closes or sends it all."""
    with socket.create_connection(address, timeout=30) as sock:
        # the server may answer and close before taking the whole body
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        answer = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            length = [line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")]
            if length and len(body) >= int(length[0]):
                break
    return answer


def _chunked(body: bytes, size: int = 64 * 1024) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
             for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def _post_chunked(path: str, token: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode() + _chunked(body)


def test_oversized_chunked_body_is_413(server: tuple[str, int], auth: Auth,
                                       instance: Instance) -> None:
    token = auth("subjects:write")["Authorization"].removeprefix("Bearer ")
    limit = instance.settings.max_body_bytes
    big = json.dumps({"email": "big@example.org", "name": "x" * (limit + 10)}).encode()
    answer = _exchange(server, _post_chunked("/api/v1/subjects", token, big))
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"content-type: application/problem+json" in answer.lower()
    assert b'"field": "body"' in answer

    small = json.dumps({"email": "small@example.org"}).encode()
    answer = _exchange(server, _post_chunked("/api/v1/subjects", token, small))
    assert answer.startswith(b"HTTP/1.1 201 "), answer[:300]


def test_api_docs_csp_restricts_base_and_form_targets(server: tuple[str, int]) -> None:
    answer = _exchange(server, b"GET /api/docs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               b"Connection: close\r\n\r\n")
    head = answer.partition(b"\r\n\r\n")[0].decode().lower()
    csp = next(line for line in head.split("\r\n") if line.startswith("content-security-policy"))
    assert "base-uri 'none'" in csp
    assert "form-action 'self'" in csp
    assert "frame-ancestors 'none'" in csp
