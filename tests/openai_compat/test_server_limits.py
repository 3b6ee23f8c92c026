"""`constrain serve` under hostile or careless clients: size, token, nesting, time and admission limits."""
from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from typing import Any, Iterator

import pytest

from constrain.openai_compat import Server

pytest.importorskip("uvicorn")

USER = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def limited(tiny) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    model, tok = tiny
    with Server(model, tok, name="tiny", port=0, max_body_bytes=4096, max_prompt_tokens=64, max_total_tokens=64,
                max_pending=1, request_timeout=120) as srv:
        yield srv


def raw(server: Server, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """Send one request as given (headers untouched); the status and the JSON reply (or its text)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        conn.putrequest(method, "/v1" + path, skip_accept_encoding=True)
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        conn.endheaders(body or None)
        reply = conn.getresponse()
        data = reply.read()
    finally:
        conn.close()
    try:
        return reply.status, json.loads(data)
    except ValueError:
        return reply.status, data.decode(errors="replace")


def post(server: Server, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    data = json.dumps(body).encode()
    return raw(server, "POST", path, data, {"Content-Type": "application/json", "Content-Length": str(len(data))})


def error_of(reply: Any) -> dict[str, Any]:
    assert isinstance(reply, dict) and set(reply["error"]) == {"message", "type", "param", "code"}, reply
    return reply["error"]


def still_serving(server: Server) -> None:
    status, reply = post(server, "/completions", {"prompt": "x", "max_tokens": 2, "choice": ["yes", "no"]})
    assert status == 200 and reply["choices"][0]["text"] in ("yes", "no"), reply


def test_body_over_the_limit_is_413(limited: Server) -> None:
    big = json.dumps({"prompt": "x" * 10_000, "max_tokens": 1}).encode()
    status, reply = raw(limited, "POST", "/completions", big, {"Content-Length": str(len(big))})
    assert status == 413 and "max_body_bytes" in error_of(reply)["message"]
    status, reply = raw(limited, "POST", "/completions", b"", {"Content-Length": str(12 * 2**20)})
    assert status == 413 and "4096" in error_of(reply)["message"]
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(big), big)
    status, reply = raw(limited, "POST", "/completions", chunked, {"Transfer-Encoding": "chunked"})
    assert status == 413 and error_of(reply)["type"] == "invalid_request_error"
    still_serving(limited)


def test_prompt_and_output_token_limits(limited: Server) -> None:
    status, reply = post(limited, "/completions", {"prompt": "word " * 200, "max_tokens": 1})
    assert status == 400 and "max_prompt_tokens" in error_of(reply)["message"] and error_of(reply)["param"] == "prompt"
    status, reply = post(limited, "/chat/completions", {"messages": [{"role": "user", "content": "word " * 200}], "max_tokens": 1})
    assert status == 400 and "at most 64" in error_of(reply)["message"]
    status, reply = post(limited, "/completions", {"prompt": "x", "n": 16, "max_tokens": 8})
    assert status == 400 and "n * max_tokens is 128" in error_of(reply)["message"] and error_of(reply)["param"] == "max_tokens"
    still_serving(limited)


def test_client_mistakes_are_400(limited: Server) -> None:
    status, _ = raw(limited, "POST", "/completions", b'{"prompt": "x"}', {"Content-Length": "abc"})
    assert status == 400
    deep = b"[" * 100_000 + b"]" * 100_000
    status, reply = raw(limited, "POST", "/completions", deep[:4000], {"Content-Length": "4000"})
    assert status == 400 and "nests deeper" in error_of(reply)["message"]
    nested = (b'{"prompt": "x", "a": ' + b"[" * 1000 + b"]" * 1000 + b"}")
    status, reply = raw(limited, "POST", "/completions", nested, {"Content-Length": str(len(nested))})
    assert status == 400 and "nests deeper" in error_of(reply)["message"]
    for body in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        status, reply = raw(limited, "POST", "/completions", body, {"Content-Length": str(len(body))})
        assert status == 400, (body, reply)
        error_of(reply)
    status, reply = raw(limited, "GET", "/nowhere")
    assert status == 404 and "no route" in error_of(reply)["message"]
    still_serving(limited)


def test_full_queue_answers_429(limited: Server) -> None:
    """With ``max_pending=1`` and decoding held up, a second request is turned away at once; the first completes."""
    engine = limited.engine
    results: list[tuple[int, Any]] = []
    engine.lock.acquire()
    try:
        first = threading.Thread(target=lambda: results.append(post(limited, "/completions", {"prompt": "x", "max_tokens": 2})))
        first.start()
        for _ in range(2000):
            if limited.app.slots._value == 0:
                break
            time.sleep(0.005)
        status, reply = post(limited, "/completions", {"prompt": "x", "max_tokens": 2})
        assert status == 429 and error_of(reply)["type"] == "rate_limit_error" and "max_pending" in error_of(reply)["message"]
    finally:
        engine.lock.release()
    first.join(120)
    assert results and results[0][0] == 200
    still_serving(limited)


def test_deadline_gives_504_and_the_server_recovers(tiny) -> None:  # type: ignore[no-untyped-def]
    model, tok = tiny
    with Server(model, tok, name="tiny", port=0, request_timeout=0.05) as srv:
        srv.engine.lock.acquire()
        try:
            status, reply = post(srv, "/completions", {"prompt": "x", "max_tokens": 64})
            assert status == 504 and error_of(reply)["type"] == "timeout" and "request_timeout" in error_of(reply)["message"]
            status, reply = post(srv, "/chat/completions", {"messages": USER, "max_tokens": 64, "stream": True})
            assert status == 504 and error_of(reply)["type"] == "timeout"
        finally:
            srv.engine.lock.release()
        for _ in range(2000):
            if srv.app.slots._value == srv.engine.limits.max_pending:
                break
            time.sleep(0.005)
        assert srv.app.slots._value == srv.engine.limits.max_pending


def test_disconnect_cancels_decoding(tiny) -> None:  # type: ignore[no-untyped-def]
    """A client that leaves an ``n=16, max_tokens=1024`` request stops it: far fewer steps than asked are run."""
    model, tok = tiny
    calls = [0]
    forward = model.forward

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return forward(*args, **kwargs)

    model.forward = counting
    try:
        with Server(model, tok, name="tiny", port=0) as srv:
            body = json.dumps({"prompt": "x", "n": 16, "max_tokens": 1024, "temperature": 1.0, "seed": 0,
                               "regex": "[a-z ]{1024}"}).encode()
            sock = socket.create_connection(("127.0.0.1", srv.port))
            sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            for _ in range(20000):
                if calls[0] >= 3:
                    break
                time.sleep(0.001)
            sock.close()
            for _ in range(20000):
                if srv.app.slots._value == srv.engine.limits.max_pending:
                    break
                time.sleep(0.005)
            assert srv.app.slots._value == srv.engine.limits.max_pending
            assert 3 <= calls[0] < 1024
            still_serving(srv)
    finally:
        del model.forward


def test_a_format_too_complex_to_enforce_is_400(limited: Server) -> None:
    for stream in (False, True):
        status, reply = post(limited, "/completions", {"prompt": "x", "max_tokens": 8, "regex": "(a|b)*a(a|b){25}", "stream": stream})
        assert status == 400 and "cannot enforce this format" in error_of(reply)["message"], reply
    still_serving(limited)
