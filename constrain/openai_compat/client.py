"""A small client for OpenAI-compatible chat servers, built for structured output.

``Client(base_url, model)`` sends chat completions over httpx with timeouts, retries with
exponential backoff on 429 and 5xx (honouring ``Retry-After``), and a limit on concurrent
requests shared by every thread (parallel candidates of ``best_of``/``vote`` go through it).
The format is sent as ``response_format`` (or our regex/choice extension fields) when the
server accepts it; a server that refuses those fields is remembered and then only gets the
format described in the prompt. :meth:`Client.parse` adds repair, validation and re-asking.
"""
from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

from ..errors import ConstrainError

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class RemoteError(ConstrainError):
    """The server answered with an error (``status``) or could not be reached (``status`` is None)."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        self.status = status
        self.body = body
        super().__init__(message if status is None else f"HTTP {status}: {message}")


@dataclass
class ChatReply:
    """One choice of a completion, with usage and (when asked for) the mean token log-probability."""

    text: str
    finish_reason: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    mean_logprob: float | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def _error_message(response: Any) -> tuple[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase, None
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict) and err.get("message"):
        return str(err["message"]), body
    return json.dumps(body)[:500], body


def _mean_logprob(choice: dict[str, Any]) -> float | None:
    content = (choice.get("logprobs") or {}).get("content")
    if not content:
        return None
    values = [float(t["logprob"]) for t in content if t.get("logprob") is not None]
    return sum(values) / len(values) if values else None


class Client:
    """An OpenAI-compatible chat completions client.

    ``schema_mode``: ``"auto"`` sends the format fields and falls back to the prompt if the
    server refuses them; ``"response_format"`` always sends them; ``"prompt"`` never does.
    ``logprobs=True`` asks for token log-probabilities (for ``best_of`` scoring).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 20.0,
        max_concurrency: int = 4,
        schema_mode: str = "auto",
        logprobs: bool = False,
        transport: Any = None,
    ) -> None:
        import httpx

        if schema_mode not in ("auto", "response_format", "prompt"):
            raise ValueError("schema_mode must be 'auto', 'response_format' or 'prompt'")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_concurrency = max(1, max_concurrency)
        self.schema_mode = schema_mode
        self.logprobs = logprobs
        self.fields_supported: bool | None = None
        self._slots = threading.BoundedSemaphore(self.max_concurrency)
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, headers=headers, transport=transport)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _delay(self, attempt: int, response: Any) -> float:
        header = response.headers.get("retry-after") if response is not None else None
        if header is not None:
            try:
                return min(max(float(header), 0.0), self.max_backoff)
            except ValueError:
                pass
        return min(self.backoff * (2**attempt), self.max_backoff) * (0.75 + 0.5 * random.random())

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Send one request with retries; returns the decoded JSON or raises :class:`RemoteError`."""
        import httpx

        last: Exception | None = None
        for attempt in range(self.max_retries + 1):
            response = None
            with self._slots:
                try:
                    response = self._http.request(method, path, json=body)
                except httpx.TimeoutException as e:
                    last = RemoteError(f"timed out calling {self.base_url}{path}: {e}")
                except httpx.TransportError as e:
                    last = RemoteError(f"cannot reach {self.base_url}{path}: {e}")
            if response is not None:
                if response.status_code < 400:
                    try:
                        return response.json()
                    except ValueError as e:
                        raise RemoteError(f"the server sent invalid JSON: {response.text[:200]!r}") from e
                message, parsed = _error_message(response)
                last = RemoteError(message, response.status_code, parsed)
                if response.status_code not in RETRY_STATUS:
                    raise last
            if attempt < self.max_retries:
                time.sleep(self._delay(attempt, response))
        assert last is not None
        raise last

    def _body(self, messages: Sequence[dict[str, Any]], options: dict[str, Any], fields: dict[str, Any] | None) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": list(messages)}
        body.update({k: v for k, v in options.items() if v is not None})
        if self.logprobs:
            body["logprobs"] = True
        if fields and self.schema_mode != "prompt" and self.fields_supported is not False:
            body.update(fields)
        return body

    def chat(
        self,
        messages: Sequence[dict[str, Any]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        stop: Sequence[str] | None = None,
        constraint_fields: dict[str, Any] | None = None,
    ) -> ChatReply:
        """One chat completion; ``constraint_fields`` from :func:`~constrain.openai_compat.protocol.request_fields`."""
        options = {"max_tokens": max_tokens, "temperature": temperature, "top_p": top_p, "seed": seed, "stop": list(stop) if stop else None}
        body = self._body(messages, options, constraint_fields)
        try:
            data = self.request("POST", "/chat/completions", body)
        except RemoteError as e:
            sent = constraint_fields and any(k in body for k in constraint_fields)
            if not (sent and e.status in (400, 422) and self.schema_mode == "auto"):
                raise
            data = self.request("POST", "/chat/completions", self._body(messages, options, None))
            self.fields_supported = False
        else:
            if constraint_fields and any(k in body for k in constraint_fields):
                self.fields_supported = True
        return self._reply(data, "message")

    @staticmethod
    def _reply(data: Any, kind: str) -> ChatReply:
        try:
            choice = data["choices"][0]
            text = choice[kind]["content"] if kind == "message" else choice["text"]
        except (KeyError, IndexError, TypeError) as e:
            raise RemoteError(f"unexpected response shape: {json.dumps(data)[:300]}") from e
        usage = data.get("usage") or {}
        return ChatReply(
            text or "",
            choice.get("finish_reason") or "",
            int(usage.get("prompt_tokens") or 0),
            int(usage.get("completion_tokens") or 0),
            _mean_logprob(choice),
            data,
        )

    def complete(self, prompt: str, *, max_tokens: int | None = None, temperature: float | None = None, seed: int | None = None, **fields: Any) -> ChatReply:
        """One text completion (``/completions``); ``fields`` are extra body fields (e.g. ``regex=...``)."""
        body = {"model": self.model, "prompt": prompt, **{k: v for k, v in {"max_tokens": max_tokens, "temperature": temperature, "seed": seed}.items() if v is not None}, **fields}
        return self._reply(self.request("POST", "/completions", body), "text")

    def models(self) -> list[str]:
        """The model ids the server lists."""
        data = self.request("GET", "/models")
        return [m["id"] for m in data.get("data", [])]

    def stream(
        self,
        messages: Sequence[dict[str, Any]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        seed: int | None = None,
        constraint_fields: dict[str, Any] | None = None,
    ) -> Iterator[str]:
        """Stream a chat completion, yielding text deltas as they arrive (no retry once started)."""
        import httpx

        options = {"max_tokens": max_tokens, "temperature": temperature, "seed": seed, "stream": True}
        body = self._body(messages, options, constraint_fields)
        with self._slots:
            try:
                with self._http.stream("POST", "/chat/completions", json=body) as response:
                    if response.status_code >= 400:
                        response.read()
                        message, parsed = _error_message(response)
                        raise RemoteError(message, response.status_code, parsed)
                    for line in response.iter_lines():
                        if not line.startswith("data:"):
                            continue
                        payload = line[5:].strip()
                        if payload == "[DONE]":
                            return
                        chunk = json.loads(payload)
                        for choice in chunk.get("choices", []):
                            delta = (choice.get("delta") or {}).get("content")
                            if delta:
                                yield delta
            except httpx.TransportError as e:
                raise RemoteError(f"stream from {self.base_url} failed: {e}") from e

    def parse(self, messages: str | Sequence[dict[str, Any]], output: Any, *, max_tries: int = 3, feedback: bool = True, **options: Any) -> Any:
        """Ask for ``output``, repair and validate the answer, re-asking with the errors on failure.

        Returns a :class:`~constrain.sampling.SampleResult` (``.value``, ``.attempts``).
        """
        from ..sampling import retry, sample

        return sample(self, None, messages, output, retry(max_tries, feedback=feedback), **options)
