"""``constrain serve``: an OpenAI-compatible HTTP server over a local transformers model.

Endpoints: ``GET /v1/models``, ``POST /v1/chat/completions`` and ``POST /v1/completions``
(with ``stream`` as server-sent events). Decoding is held to ``response_format``
(``json_schema``, ``json_object``) or to our extension fields ``regex``, ``choice``, ``grammar``
(grammar text) and ``grammar_name`` (see :mod:`constrain.openai_compat.protocol`), so any OpenAI
client gets output that follows the format exactly. ``n`` choices are decoded in one batch.

A request never makes the server read a file: ``grammar`` is always grammar text. Grammar files are
the operator's choice: ``constrain serve --grammar sql=grammars/sqlite.lark`` (or
``Server(..., grammars={"sql": Path("grammars/sqlite.lark")})``) registers one, compiled once at
start, that a request picks with ``"grammar_name": "sql"``.

Built on Starlette and uvicorn. Every request is bounded: the body size (413), the prompt's tokens
and ``n * max_tokens`` (400), the JSON nesting depth (400), and the time from arrival to the last token
(504). Compilation and decoding run on a worker thread per request, one decoding at a time (a CPU
model gains nothing from more); at most ``max_pending`` requests are admitted at once and the rest get
429 at once. Decoding checks the deadline and the client's connection between steps, so a client that
goes away stops its request. A compilation cannot be stopped midway: past its deadline the client gets
504 and the work is dropped as soon as the compiler returns, still holding its admission slot until then.
It binds to 127.0.0.1 unless told otherwise.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Iterator, Mapping

from ..constraints import Constraint
from .protocol import RequestError, output_from_body

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

GRAMMAR_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
EBNF_SUFFIXES = (".ebnf", ".gbnf")
FINISH = {"eos": "stop", "complete": "stop", "stop": "stop", "length": "length", "dead_end": "length", "cancelled": "stop"}
MAX_TOKENS_LIMIT = 4096


@dataclass(frozen=True)
class Limits:
    """What one request may ask of the server; each bound keeps one client from taking it over."""

    max_body_bytes: int = 1 << 20
    max_prompt_tokens: int = 8192
    max_total_tokens: int = 16384
    request_timeout: float = 60.0
    max_pending: int = 32
    max_json_depth: int = 64
    max_connections: int = 256

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_prompt_tokens", "max_total_tokens", "max_pending", "max_json_depth", "max_connections"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not self.request_timeout > 0:
            raise ValueError(f"request_timeout must be a positive number of seconds, got {self.request_timeout!r}")


@dataclass
class Job:
    """One admitted request's deadline and cancellation flag, checked between compile and decoding steps."""

    deadline: float
    cancelled: threading.Event = field(default_factory=threading.Event)

    def should_stop(self) -> bool:
        """Whether the work must end now: the client left or the deadline passed."""
        return self.cancelled.is_set() or time.monotonic() >= self.deadline

    def check(self) -> None:
        """Raise the error the client gets when the work must end."""
        if self.cancelled.is_set():
            raise RequestError("the request was cancelled", 499, kind="cancelled")
        if time.monotonic() >= self.deadline:
            raise _timeout()


def _timeout() -> RequestError:
    return RequestError("the request ran past the server's time limit (request_timeout)", 504, kind="timeout")


def _too_complex_is_400(decode: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``decode``; a format whose automaton grows past the engine's limits is the caller's 400, not a 500."""
    from ..errors import LimitExceeded

    try:
        return decode(*args, **kwargs)
    except LimitExceeded as e:
        raise RequestError(f"cannot enforce this format: {e}") from e


def _guarded(events: Iterator[Any]) -> Iterator[Any]:
    """``events`` with an automaton over the engine's limits turned into the caller's 400."""
    while True:
        try:
            event = _too_complex_is_400(next, events)
        except StopIteration:
            return
        yield event


def _json_depth(value: Any) -> int:
    """The nesting depth of a parsed JSON value, walked without recursion."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            todo.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _number(body: dict[str, Any], key: str, default: Any, kind: type, low: float, high: float) -> Any:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not float(value).is_integer()):
        raise RequestError(f"{key} must be a {'integer' if kind is int else 'number'}", param=key)
    if not low <= value <= high:
        raise RequestError(f"{key} must be between {low} and {high}", param=key)
    return kind(value)


def _stops(body: dict[str, Any]) -> list[str] | None:
    stop = body.get("stop")
    if stop is None:
        return None
    stops = [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops) or len(stops) > 4:
        raise RequestError("stop must be a string or a list of up to 4 strings", param="stop")
    return stops


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        if len(parts) == len(content):
            return "".join(parts)
    raise RequestError("message content must be a string or a list of text parts", param="messages")


def compile_grammars(grammars: Mapping[str, "str | os.PathLike[str] | Constraint"]) -> dict[str, Constraint]:
    """The operator's named grammars as constraints: a path is a grammar file (EBNF for ``.ebnf``/``.gbnf``,
    Lark otherwise), a ``str`` is Lark grammar text, a constraint is used as it is.

    Raises ``ValueError`` for a bad name; a missing or invalid file fails here, at start, not per request.
    """
    from ..constraints import grammar

    compiled: dict[str, Constraint] = {}
    for name, spec in grammars.items():
        if not isinstance(name, str) or not GRAMMAR_NAME.fullmatch(name):
            raise ValueError(f"grammar name {name!r} must be 1-64 letters, digits, '_', '.' or '-'")
        if isinstance(spec, Constraint):
            compiled[name] = spec
        elif isinstance(spec, os.PathLike):
            syntax = "ebnf" if Path(spec).suffix.lower() in EBNF_SUFFIXES else "lark"
            compiled[name] = grammar(spec, syntax=syntax)
        else:
            compiled[name] = grammar(spec)
    return compiled


class Engine:
    """The model side of the server: prompt building and constrained decoding, one request at a time."""

    def __init__(self, model: Any, tokenizer: Any, name: str, grammars: Mapping[str, Constraint] | None = None,
                 limits: Limits | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.grammars = dict(grammars or {})
        self.limits = limits or Limits()
        self.created = int(time.time())
        self.lock = threading.Lock()

    def _acquire(self, job: Job | None) -> None:
        """Take the decoding lock, giving up at the job's deadline."""
        if job is None:
            self.lock.acquire()
            return
        if not self.lock.acquire(timeout=max(0.0, job.deadline - time.monotonic())):
            raise _timeout()
        try:
            job.check()
        except RequestError:
            self.lock.release()
            raise

    def prompt_ids(self, prompt: Any) -> list[int]:
        """The prompt's token ids; raises :class:`RequestError` past ``max_prompt_tokens``."""
        from ..generate.api import _prompt_ids

        ids = list(_prompt_ids(self.tokenizer, prompt, None))
        limit = self.limits.max_prompt_tokens
        if len(ids) > limit:
            raise RequestError(f"the prompt has {len(ids)} tokens; this server takes at most {limit} (max_prompt_tokens)",
                               param="messages" if isinstance(prompt, list) else "prompt")
        return ids

    def chat_prompt(self, body: dict[str, Any]) -> Any:
        """The messages for the chat template, or a plain ``Role: text`` transcript when there is none."""
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise RequestError("messages must be a non-empty list", param="messages")
        clean = []
        for m in messages:
            if not isinstance(m, dict) or not isinstance(m.get("role"), str):
                raise RequestError("each message needs a role and content", param="messages")
            clean.append({"role": m["role"], "content": _message_text(m.get("content", ""))})
        if getattr(self.tokenizer, "chat_template", None):
            return clean
        lines = [f"{m['role'].capitalize()}: {m['content']}" for m in clean]
        return "\n".join(lines) + "\nAssistant:"

    def options(self, body: dict[str, Any], default_max: int) -> dict[str, Any]:
        """The decoding options of a request, checked; raises :class:`RequestError` for bad values."""
        model = body.get("model")
        if model is not None and model != self.name:
            raise RequestError(f"the model {model!r} does not exist; this server serves {self.name!r}", 404, "model", "model_not_found")
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        opts = {
            "max_new_tokens": _number({"max_tokens": max_tokens}, "max_tokens", default_max, int, 1, MAX_TOKENS_LIMIT),
            "temperature": _number(body, "temperature", 1.0, float, 0.0, 2.0),
            "top_p": _number(body, "top_p", None, float, 0.0, 1.0),
            "seed": _number(body, "seed", None, int, -(2**63), 2**63 - 1),
            "n": _number(body, "n", 1, int, 1, 16),
            "stop": _stops(body),
        }
        total, limit = opts["n"] * opts["max_new_tokens"], self.limits.max_total_tokens
        if total > limit:
            raise RequestError(f"n * max_tokens is {total}; this server allows at most {limit} (max_total_tokens)", param="max_tokens")
        opts["output"] = output_from_body(body, self.grammars)
        return opts

    def _constraint(self, output: Any) -> Any:
        from ..generate.output import resolve_output

        try:
            return resolve_output(output).constraint
        except (TypeError, ImportError) as e:
            raise RequestError(f"response_format json_schema is not supported by this server: {e}", param="response_format") from e
        except Exception as e:  # an invalid or unsupported schema is the caller's error
            raise RequestError(f"cannot enforce this format: {e}", param="response_format") from e

    def generate(self, prompt: Any, opts: dict[str, Any], job: Job | None = None) -> tuple[list[Any], int]:
        """Decode ``n`` rows in one batch; returns the rows and the prompt's token count.

        With a ``job``, decoding stops between steps once it is cancelled or past its deadline.
        """
        from ..sampling.batch import decode_batch

        ids = self.prompt_ids(prompt)
        constraint = self._constraint(opts["output"]) if opts["output"] is not None else None
        if job is not None:
            job.check()
        self._acquire(job)
        try:
            result = _too_complex_is_400(
                decode_batch,
                self.model,
                self.tokenizer,
                ids,
                opts["n"],
                constraint,
                max_new_tokens=opts["max_new_tokens"],
                temperatures=opts["temperature"],
                top_p=opts["top_p"],
                seed=opts["seed"],
                stop=opts["stop"],
                should_stop=job.should_stop if job is not None else None,
            )
        finally:
            self.lock.release()
        if job is not None:
            job.check()
        return result.rows, len(ids)

    def stream(self, prompt: Any, opts: dict[str, Any], job: Job | None = None) -> Iterator[Any]:
        """Stream one choice: text deltas, then the final :class:`~constrain.generate.api.StreamEvent`.

        With a ``job``, the stream raises :class:`RequestError` between steps once it is cancelled or late.
        """
        from ..generate.api import stream

        if opts["n"] != 1:
            raise RequestError("stream supports n=1 only", param="n")
        self.prompt_ids(prompt)
        constraint = self._constraint(opts["output"]) if opts["output"] is not None else None
        if job is not None:
            job.check()
        self._acquire(job)
        try:
            events = _too_complex_is_400(
                stream,
                self.model,
                self.tokenizer,
                prompt,
                constraint,
                max_new_tokens=opts["max_new_tokens"],
                temperature=opts["temperature"],
                top_p=opts["top_p"],
                seed=opts["seed"],
                stop=opts["stop"],
            )
            try:
                for event in _guarded(events):
                    yield event
                    if job is not None and not event.done:
                        job.check()
            finally:
                events.close()
        finally:
            self.lock.release()

    def token_logprobs(self, row: Any) -> list[dict[str, Any]]:
        """A row's tokens in the ``logprobs.content`` shape of the chat API."""
        from ..generate.vocab_cache import vocabulary_for

        vocab = vocabulary_for(self.tokenizer, int(self.model.get_output_embeddings().weight.shape[0]))
        out = []
        for token, lp in zip(row.token_ids, row.logprobs):
            raw = vocab.token_bytes[token] or b""
            out.append({"token": raw.decode("utf-8", errors="replace"), "logprob": lp, "bytes": list(raw), "top_logprobs": []})
        return out


def _error(e: RequestError) -> "Response":
    from starlette.responses import JSONResponse

    return JSONResponse(e.body(), status_code=e.status)


def _settle(future: "asyncio.Future[Any]", value: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


class App:
    """The ASGI application: routing, request limits, admission, and the worker threads that decode."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.limits = engine.limits
        self.slots = threading.BoundedSemaphore(self.limits.max_pending)
        self.app = self._build()

    def _build(self) -> "Starlette":
        from starlette.applications import Starlette
        from starlette.exceptions import HTTPException
        from starlette.routing import Route

        async def http_error(request: "Request", exc: Exception) -> "Response":
            status = exc.status_code if isinstance(exc, HTTPException) else 500
            message = f"no route {request.method} {request.url.path}" if status in (404, 405) else str(getattr(exc, "detail", exc))
            return _error(RequestError(message, status, kind="invalid_request_error" if status < 500 else "server_error"))

        async def server_error(request: "Request", exc: Exception) -> "Response":
            return _error(RequestError(f"{type(exc).__name__}: {exc}", 500, kind="server_error"))

        routes = [
            Route("/v1/models", self.models, methods=["GET"]),
            Route("/v1/models/{name:path}", self.model, methods=["GET"]),
            Route("/v1/chat/completions", self.chat, methods=["POST"]),
            Route("/v1/completions", self.completions, methods=["POST"]),
        ]
        return Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: server_error})

    def _card(self) -> dict[str, Any]:
        e = self.engine
        return {"id": e.name, "object": "model", "created": e.created, "owned_by": "constrain"}

    async def models(self, request: "Request") -> "Response":
        """``GET /v1/models``: the one served model."""
        from starlette.responses import JSONResponse

        return JSONResponse({"object": "list", "data": [self._card()]})

    async def model(self, request: "Request") -> "Response":
        """``GET /v1/models/{name}``: the served model's card, 404 for any other name."""
        from starlette.responses import JSONResponse

        if request.path_params["name"] != self.engine.name:
            return _error(RequestError(f"no route GET {request.url.path}", 404))
        return JSONResponse(self._card())

    async def chat(self, request: "Request") -> "Response":
        """``POST /v1/chat/completions``."""
        return await self._completion(request, chat=True)

    async def completions(self, request: "Request") -> "Response":
        """``POST /v1/completions``."""
        return await self._completion(request, chat=False)

    async def _body(self, request: "Request") -> dict[str, Any]:
        """The JSON object body, read up to ``max_body_bytes``; raises :class:`RequestError` (400 or 413)."""
        limit = self.limits.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                raise RequestError(f"Content-Length must be a number of bytes, got {declared[:40]!r}")
            if int(declared) > limit:
                raise RequestError(f"the request body has {int(declared)} bytes; this server takes at most {limit} (max_body_bytes)", 413)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RequestError(f"the request body is over {limit} bytes (max_body_bytes)", 413)
            chunks.append(chunk)
        try:
            body = json.loads(b"".join(chunks) or b"null")
        except RecursionError as e:
            raise RequestError(f"the request body nests deeper than {self.limits.max_json_depth} levels") from e
        except ValueError as e:
            raise RequestError(f"the request body is not valid JSON: {e}") from e
        if not isinstance(body, dict):
            raise RequestError("the request body must be a JSON object")
        if _json_depth(body) > self.limits.max_json_depth:
            raise RequestError(f"the request body nests deeper than {self.limits.max_json_depth} levels")
        return body

    def _admit(self) -> Job:
        """A job for one more request, or 429 when ``max_pending`` requests are already admitted."""
        if not self.slots.acquire(blocking=False):
            raise RequestError(f"the server is busy: {self.limits.max_pending} requests are in progress (max_pending); retry later",
                               429, kind="rate_limit_error")
        return Job(time.monotonic() + self.limits.request_timeout)

    def _spawn(self, work: Callable[[], Any]) -> "asyncio.Future[Any]":
        """Run ``work`` on its own thread, which frees the admission slot when it ends; its outcome as a future."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def run() -> None:
            value, error = None, None
            try:
                value = work()
            except BaseException as e:  # handed to the waiting request
                error = e
            finally:
                self.slots.release()
            try:
                loop.call_soon_threadsafe(_settle, future, value, error)
            except RuntimeError:
                pass  # the server has stopped; nobody is waiting

        threading.Thread(target=run, name="constrain-request", daemon=True).start()
        return future

    async def _wait(self, request: "Request", future: "asyncio.Future[Any]", job: Job) -> Any:
        """``future``'s result, or :class:`RequestError` when the deadline passes or the client disconnects."""
        async def disconnected() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass

        watch = asyncio.ensure_future(disconnected())
        try:
            done, _ = await asyncio.wait({future, watch}, timeout=max(0.0, job.deadline - time.monotonic()),
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            watch.cancel()
        if future in done:
            return future.result()
        job.cancelled.set()
        future.cancel()
        if watch in done:
            raise RequestError("the client closed the connection", 499, kind="cancelled")
        raise _timeout()

    def _prompt(self, body: dict[str, Any], chat: bool) -> Any:
        if chat:
            return self.engine.chat_prompt(body)
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1:
            prompt = prompt[0]
        if not isinstance(prompt, str):
            raise RequestError("prompt must be a string", param="prompt")
        return prompt

    async def _completion(self, request: "Request", chat: bool) -> "Response":
        from starlette.responses import JSONResponse

        try:
            body = await self._body(request)
            job = self._admit()
        except RequestError as e:
            return _error(e)
        ident = ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex[:24]
        if body.get("stream"):
            return await self._stream(request, ident, body, chat, job)
        try:
            payload = await self._wait(request, self._spawn(lambda: self._complete(ident, body, chat, job)), job)
        except RequestError as e:
            return _error(e)
        except Exception as e:  # reported to the client, the server keeps serving
            return _error(RequestError(f"{type(e).__name__}: {e}", 500, kind="server_error"))
        return JSONResponse(payload)

    def _complete(self, ident: str, body: dict[str, Any], chat: bool, job: Job) -> dict[str, Any]:
        """The whole non-streamed reply (runs on a worker thread)."""
        e = self.engine
        prompt = self._prompt(body, chat)
        opts = e.options(body, 256 if chat else 16)
        rows, prompt_tokens = e.generate(prompt, opts, job)
        choices = []
        for i, row in enumerate(rows):
            reason = FINISH.get(row.finish_reason, "stop")
            if chat:
                logprobs = {"content": e.token_logprobs(row)} if body.get("logprobs") else None
                choices.append({"index": i, "message": {"role": "assistant", "content": row.text}, "logprobs": logprobs, "finish_reason": reason})
            else:
                choices.append({"index": i, "text": row.text, "logprobs": None, "finish_reason": reason})
        completion_tokens = sum(len(r.token_ids) for r in rows)
        return {
            "id": ident,
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": e.name,
            "choices": choices,
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens},
        }

    async def _stream(self, request: "Request", ident: str, body: dict[str, Any], chat: bool, job: Job) -> "Response":
        """Server-sent events; errors before the first token come back as a plain JSON error."""
        from starlette.responses import StreamingResponse

        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def put(kind: str, item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, item))
            except RuntimeError:
                pass  # the server has stopped; nobody is reading

        def produce() -> None:
            e = self.engine
            try:
                opts = e.options(body, 256 if chat else 16)
                for event in e.stream(self._prompt(body, chat), opts, job):
                    put("event", event)
            except RequestError as err:
                put("error", err)
            except Exception as err:  # reported to the client, the server keeps serving
                put("error", RequestError(f"{type(err).__name__}: {err}", 500, kind="server_error"))

        async def next_item() -> tuple[str, Any]:
            try:
                return await asyncio.wait_for(queue.get(), timeout=max(0.0, job.deadline - time.monotonic()))
            except asyncio.TimeoutError:
                job.cancelled.set()
                return "error", _timeout()

        worker = self._spawn(produce)
        try:
            first = await self._wait(request, asyncio.ensure_future(next_item()), job)
        except RequestError as e:
            return _error(e)
        if first[0] == "error":
            return _error(first[1])
        base = {"id": ident, "object": "chat.completion.chunk" if chat else "text_completion", "created": int(time.time()), "model": self.engine.name}

        def chunk(text: str | None, reason: str | None, role: bool = False) -> str:
            if chat:
                delta: dict[str, Any] = {"role": "assistant"} if role else {}
                if text is not None:
                    delta["content"] = text
                choice: dict[str, Any] = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
            else:
                choice = {"index": 0, "text": text or "", "logprobs": None, "finish_reason": reason}
            return f"data: {json.dumps({**base, 'choices': [choice]})}\n\n"

        async def events() -> AsyncIterator[str]:
            item = first
            try:
                if chat:
                    yield chunk("", None, role=True)
                while True:
                    kind, value = item
                    if kind == "error":
                        yield f"data: {json.dumps(value.body())}\n\n"
                        break
                    if value.done:
                        yield chunk(None if chat else "", FINISH.get(value.result.finish_reason if value.result else "", "stop"))
                        break
                    if value.delta:
                        yield chunk(value.delta, None)
                    item = await next_item()
                yield "data: [DONE]\n\n"
            finally:
                job.cancelled.set()
                worker.cancel()

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


class Server:
    """An OpenAI-compatible server over ``model``; ``start()`` runs it on a background thread.

    ``grammars`` maps names to grammar files (``pathlib.Path``), grammar text or constraints that a request
    may pick with ``"grammar_name"``; they are compiled here, once. The keyword limits bound what one
    request may ask (see :class:`Limits`; ``request_timeout`` is in seconds).

    >>> # with Server(model, tokenizer, port=0) as server: openai.OpenAI(base_url=server.url, api_key="x")
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        name: str = "constrain",
        host: str = "127.0.0.1",
        port: int = 8000,
        grammars: Mapping[str, "str | os.PathLike[str] | Constraint"] | None = None,
        max_body_bytes: int = Limits.max_body_bytes,
        max_prompt_tokens: int = Limits.max_prompt_tokens,
        max_total_tokens: int = Limits.max_total_tokens,
        request_timeout: float = Limits.request_timeout,
        max_pending: int = Limits.max_pending,
        max_connections: int = Limits.max_connections,
    ) -> None:
        try:
            import uvicorn
        except ImportError as e:
            raise ImportError("constrain serve needs starlette and uvicorn: pip install 'constrain[serve]'") from e
        limits = Limits(max_body_bytes=max_body_bytes, max_prompt_tokens=max_prompt_tokens, max_total_tokens=max_total_tokens,
                        request_timeout=request_timeout, max_pending=max_pending, max_connections=max_connections)
        self.engine = Engine(model, tokenizer, name, compile_grammars(grammars or {}), limits)
        self.app = App(self.engine)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self._socket.listen(2048)  # connections queue from the moment the URL is known, before uvicorn starts
        self._host = host
        config = uvicorn.Config(self.app.app, log_level="warning", access_log=False, lifespan="off",
                                limit_concurrency=limits.max_connections, timeout_keep_alive=5, timeout_graceful_shutdown=5)
        self._uvicorn = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (useful after ``port=0``)."""
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        """The base URL clients use (ends in ``/v1``)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}/v1"

    def start(self) -> "Server":
        """Serve on a daemon thread; returns once the server accepts connections."""
        self._thread = threading.Thread(target=self.serve_forever, name="constrain-serve", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        """Serve on this thread until interrupted or stopped."""
        self._uvicorn.run(sockets=[self._socket])

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._uvicorn.should_exit = True
            self._thread.join(timeout=10)
            self._thread = None
        self._socket.close()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _cmd_serve(args: Any) -> int:
    import sys

    from ..errors import ConstrainError
    from ..generate.models import load_model

    files: dict[str, Path] = {}
    for name, path in args.grammar or []:
        if name in files:
            print(f"constrain serve: --grammar {name} is given twice", file=sys.stderr)
            return 2
        files[name] = path
    try:
        grammars = compile_grammars(files)
    except (ConstrainError, OSError, ValueError) as e:
        print(f"constrain serve: cannot load a --grammar file: {e}", file=sys.stderr)
        return 2
    model, tokenizer = load_model(args.model)
    server = Server(model, tokenizer, name=args.served_model_name or args.model, host=args.host, port=args.port,
                    grammars=grammars, max_body_bytes=args.max_body_bytes, max_prompt_tokens=args.max_prompt_tokens,
                    max_total_tokens=args.max_total_tokens, request_timeout=args.request_timeout,
                    max_pending=args.max_pending, max_connections=args.max_connections)
    print(f"serving {args.model} at {server.url} (Ctrl-C to stop)", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _named_grammar_file(value: str) -> tuple[str, Path]:
    """Parse ``--grammar NAME=PATH`` into ``(name, path)``; the file must exist."""
    import argparse

    name, sep, path = value.partition("=")
    if not sep or not GRAMMAR_NAME.fullmatch(name) or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH with NAME made of letters, digits, '_', '.' or '-': {value!r}")
    if not os.path.isfile(path):
        raise argparse.ArgumentTypeError(f"no grammar file at {path!r}")
    return name, Path(path)


def add_serve_parser(subparsers: Any) -> Any:
    """Add the ``serve`` subcommand to the ``constrain`` command's subparsers."""
    p = subparsers.add_parser("serve", help="serve a local model over an OpenAI-compatible HTTP API with constrained decoding")
    p.add_argument("--model", default="smollm2", help="built-in model name or a local transformers folder")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--served-model-name", default=None, help="the model id clients send (default: --model)")
    p.add_argument("--grammar", action="append", type=_named_grammar_file, metavar="NAME=PATH",
                   help="a grammar file (Lark; EBNF for .ebnf/.gbnf) that requests may use with "
                        "\"grammar_name\": \"NAME\" (repeatable); requests never name files themselves")
    p.add_argument("--max-body-bytes", type=int, default=Limits.max_body_bytes, help="largest request body; larger ones get 413")
    p.add_argument("--max-prompt-tokens", type=int, default=Limits.max_prompt_tokens, help="longest prompt in tokens; longer ones get 400")
    p.add_argument("--max-total-tokens", type=int, default=Limits.max_total_tokens, help="largest n * max_tokens of one request (400 above)")
    p.add_argument("--request-timeout", type=float, default=Limits.request_timeout,
                   help="seconds a request may take, compiling included; later ones get 504")
    p.add_argument("--max-pending", type=int, default=Limits.max_pending, help="requests admitted at once; more get 429")
    p.add_argument("--max-connections", type=int, default=Limits.max_connections, help="open connections at once; more get 503")
    p.set_defaults(func=_cmd_serve)
    return p
