"""The client against a scripted fake server on 127.0.0.1: backoff on 429/5xx, clear errors, concurrency, fallback."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

import constrain as c
from constrain.openai_compat import Client, RemoteError
from constrain.sampling import sample, vote

OK = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "blue"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}


class Script:
    """Replies (status, body, headers) in turn, then the last one forever; records every request body."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, Any, dict[str, str]]] = [(200, OK, {})]
        self.bodies: list[dict[str, Any]] = []
        self.delay = 0.0
        self.active = 0
        self.peak = 0
        self.lock = threading.Lock()
        self.reject_field: str | None = None


@pytest.fixture()
def fake() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with script.lock:
                script.bodies.append(body)
                index = len(script.bodies) - 1
                script.active += 1
                script.peak = max(script.peak, script.active)
            time.sleep(script.delay)
            with script.lock:
                script.active -= 1
            if script.reject_field and script.reject_field in body:
                status, payload, headers = 400, {"error": {"message": f"unknown field {script.reject_field}"}}, {}
            else:
                status, payload, headers = script.replies[min(index, len(script.replies) - 1)]
            data = json.dumps(payload).encode()
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", script
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


USER = [{"role": "user", "content": "colour?"}]


def test_retries_429_and_5xx_then_succeeds(fake: tuple[str, Script]) -> None:
    url, script = fake
    script.replies = [(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"}), (503, {}, {}), (200, OK, {})]
    client = Client(url, "m", max_retries=3, backoff=0.01)
    assert client.chat(USER).text == "blue"
    assert len(script.bodies) == 3


def test_gives_up_after_max_retries_with_the_server_message(fake: tuple[str, Script]) -> None:
    url, script = fake
    script.replies = [(500, {"error": {"message": "boom"}}, {})]
    with pytest.raises(RemoteError, match="HTTP 500: boom") as info:
        Client(url, "m", max_retries=2, backoff=0.001).chat(USER)
    assert info.value.status == 500 and len(script.bodies) == 3


def test_client_errors_are_not_retried(fake: tuple[str, Script]) -> None:
    url, script = fake
    script.replies = [(401, {"error": {"message": "bad key"}}, {})]
    with pytest.raises(RemoteError, match="HTTP 401: bad key"):
        Client(url, "m", api_key="k", max_retries=3, backoff=0.001).chat(USER)
    assert len(script.bodies) == 1


def test_timeouts_and_unreachable_servers(fake: tuple[str, Script]) -> None:
    url, script = fake
    script.delay = 0.5
    with pytest.raises(RemoteError, match="timed out"):
        Client(url, "m", timeout=0.1, max_retries=0).chat(USER)
    with pytest.raises(RemoteError, match="cannot reach"):
        Client("http://127.0.0.1:9/v1", "m", max_retries=1, backoff=0.001).chat(USER)


def test_concurrency_limit_for_parallel_candidates(fake: tuple[str, Script]) -> None:
    url, script = fake
    script.delay = 0.05
    client = Client(url, "m", max_concurrency=2)
    result = sample(client, None, "colour?", c.choice(["red", "blue"]), vote(6))
    assert result.value == "blue" and result.confidence == 1.0
    assert len(script.bodies) == 6 and script.peak <= 2
    assert script.bodies[0]["choice"] == ["red", "blue"], "the format is sent as an extension field"


def test_falls_back_to_the_prompt_when_the_server_refuses_response_format(fake: tuple[str, Script]) -> None:
    url, script = fake
    script.reject_field = "response_format"
    script.replies = [(200, {**OK, "choices": [{"index": 0, "message": {"content": '{"colour": "blue"}'}, "finish_reason": "stop"}]}, {})]
    schema = {"type": "object", "properties": {"colour": {"type": "string"}}, "required": ["colour"]}
    client = Client(url, "m")
    result = client.parse("colour?", schema)
    assert result.value == {"colour": "blue"}
    assert client.fields_supported is False
    assert "response_format" in script.bodies[0] and "response_format" not in script.bodies[1]
    assert "JSON" in script.bodies[1]["messages"][0]["content"]
    client.parse("again?", schema)
    assert "response_format" not in script.bodies[2] and len(script.bodies) == 3
