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

Built on the standard library's threading HTTP server: requests are parsed concurrently
and generation runs one request at a time (a CPU model gains nothing from more). It is
meant for local use and tests; it binds to 127.0.0.1 unless told otherwise.
"""
from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..constraints import Constraint
from .protocol import RequestError, output_from_body

GRAMMAR_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
EBNF_SUFFIXES = (".ebnf", ".gbnf")
FINISH = {"eos": "stop", "complete": "stop", "stop": "stop", "length": "length", "dead_end": "length", "cancelled": "stop"}
MAX_TOKENS_LIMIT = 4096


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

    def __init__(self, model: Any, tokenizer: Any, name: str, grammars: Mapping[str, Constraint] | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.grammars = dict(grammars or {})
        self.created = int(time.time())
        self.lock = threading.Lock()

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
        return {
            "max_new_tokens": _number({"max_tokens": max_tokens}, "max_tokens", default_max, int, 1, MAX_TOKENS_LIMIT),
            "temperature": _number(body, "temperature", 1.0, float, 0.0, 2.0),
            "top_p": _number(body, "top_p", None, float, 0.0, 1.0),
            "seed": _number(body, "seed", None, int, -(2**63), 2**63 - 1),
            "n": _number(body, "n", 1, int, 1, 16),
            "stop": _stops(body),
            "output": output_from_body(body, self.grammars),
        }

    def _constraint(self, output: Any) -> Any:
        from ..generate.output import resolve_output

        try:
            return resolve_output(output).constraint
        except (TypeError, ImportError) as e:
            raise RequestError(f"response_format json_schema is not supported by this server: {e}", param="response_format") from e
        except Exception as e:  # an invalid or unsupported schema is the caller's error
            raise RequestError(f"cannot enforce this format: {e}", param="response_format") from e

    def generate(self, prompt: Any, opts: dict[str, Any]) -> tuple[list[Any], int]:
        """Decode ``n`` rows in one batch; returns the rows and the prompt's token count."""
        from ..generate.api import _prompt_ids
        from ..sampling.batch import decode_batch

        constraint = self._constraint(opts["output"]) if opts["output"] is not None else None
        ids = _prompt_ids(self.tokenizer, prompt, None)
        with self.lock:
            result = decode_batch(
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
            )
        return result.rows, len(ids)

    def stream(self, prompt: Any, opts: dict[str, Any]) -> Iterator[Any]:
        """Stream one choice: text deltas, then the final :class:`~constrain.generate.api.StreamEvent`."""
        from ..generate.api import stream

        if opts["n"] != 1:
            raise RequestError("stream supports n=1 only", param="n")
        constraint = self._constraint(opts["output"]) if opts["output"] is not None else None
        with self.lock:
            yield from stream(
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

    def token_logprobs(self, row: Any) -> list[dict[str, Any]]:
        """A row's tokens in the ``logprobs.content`` shape of the chat API."""
        from ..generate.vocab_cache import vocabulary_for

        vocab = vocabulary_for(self.tokenizer, int(self.model.get_output_embeddings().weight.shape[0]))
        out = []
        for token, lp in zip(row.token_ids, row.logprobs):
            raw = vocab.token_bytes[token] or b""
            out.append({"token": raw.decode("utf-8", errors="replace"), "logprob": lp, "bytes": list(raw), "top_logprobs": []})
        return out


class _Handler(BaseHTTPRequestHandler):
    server_version = "constrain"
    protocol_version = "HTTP/1.1"
    engine: Engine

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except ValueError as e:
            raise RequestError(f"the request body is not valid JSON: {e}") from e
        if not isinstance(body, dict):
            raise RequestError("the request body must be a JSON object")
        return body

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/v1/models":
            e = self.engine
            self._send(200, {"object": "list", "data": [{"id": e.name, "object": "model", "created": e.created, "owned_by": "constrain"}]})
        elif path == f"/v1/models/{self.engine.name}":
            e = self.engine
            self._send(200, {"id": e.name, "object": "model", "created": e.created, "owned_by": "constrain"})
        else:
            self._send(404, RequestError(f"no route GET {path}", 404).body())

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        try:
            if path == "/v1/chat/completions":
                self._completion(self._body(), chat=True)
            elif path == "/v1/completions":
                self._completion(self._body(), chat=False)
            else:
                raise RequestError(f"no route POST {path}", 404)
        except RequestError as e:
            self._send(e.status, e.body())
        except Exception as e:  # report, keep serving
            self._send(500, RequestError(f"{type(e).__name__}: {e}", 500, kind="server_error").body())

    def _completion(self, body: dict[str, Any], chat: bool) -> None:
        e = self.engine
        if chat:
            prompt = e.chat_prompt(body)
        else:
            prompt = body.get("prompt")
            if isinstance(prompt, list) and len(prompt) == 1:
                prompt = prompt[0]
            if not isinstance(prompt, str):
                raise RequestError("prompt must be a string", param="prompt")
        opts = e.options(body, 256 if chat else 16)
        ident = ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex[:24]
        if body.get("stream"):
            self._stream(ident, prompt, opts, chat)
            return
        rows, prompt_tokens = e.generate(prompt, opts)
        choices = []
        for i, row in enumerate(rows):
            reason = FINISH.get(row.finish_reason, "stop")
            if chat:
                logprobs = {"content": e.token_logprobs(row)} if body.get("logprobs") else None
                choices.append({"index": i, "message": {"role": "assistant", "content": row.text}, "logprobs": logprobs, "finish_reason": reason})
            else:
                choices.append({"index": i, "text": row.text, "logprobs": None, "finish_reason": reason})
        completion_tokens = sum(len(r.token_ids) for r in rows)
        self._send(200, {
            "id": ident,
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": e.name,
            "choices": choices,
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens},
        })

    def _stream(self, ident: str, prompt: Any, opts: dict[str, Any], chat: bool) -> None:
        events = self.engine.stream(prompt, opts)
        first = next(events)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        base = {"id": ident, "object": "chat.completion.chunk" if chat else "text_completion", "created": int(time.time()), "model": self.engine.name}

        def send(text: str | None, reason: str | None, role: bool = False) -> None:
            if chat:
                delta: dict[str, Any] = {"role": "assistant"} if role else {}
                if text is not None:
                    delta["content"] = text
                choice: dict[str, Any] = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
            else:
                choice = {"index": 0, "text": text or "", "logprobs": None, "finish_reason": reason}
            self.wfile.write(f"data: {json.dumps({**base, 'choices': [choice]})}\n\n".encode())
            self.wfile.flush()

        if chat:
            send("", None, role=True)
        event = first
        try:
            while True:
                if event.done:
                    send(None if chat else "", FINISH.get(event.result.finish_reason if event.result else "", "stop"))
                    break
                if event.delta:
                    send(event.delta, None)
                event = next(events)
        finally:
            events.close()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


class Server:
    """An OpenAI-compatible server over ``model``; ``start()`` runs it on a background thread.

    ``grammars`` maps names to grammar files (``pathlib.Path``), grammar text or constraints that a request
    may pick with ``"grammar_name"``; they are compiled here, once.

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
    ) -> None:
        engine = Engine(model, tokenizer, name, compile_grammars(grammars or {}))
        handler = type("Handler", (_Handler,), {"engine": engine})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (useful after ``port=0``)."""
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        """The base URL clients use (ends in ``/v1``)."""
        host = self.httpd.server_address[0]
        return f"http://{host}:{self.port}/v1"

    def start(self) -> "Server":
        """Serve on a daemon thread; returns at once."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="constrain-serve", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on this thread until interrupted."""
        self.httpd.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self.httpd.server_close()

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
                    grammars=grammars)
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
    p.set_defaults(func=_cmd_serve)
    return p
