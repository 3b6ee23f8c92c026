"""Load test of ``constrain serve`` on 127.0.0.1: many concurrent mixed requests against the tiny random model.

Every request is sent at once (threads released together), mixing good ones (free text, ``choice``,
``regex``, streamed chat) with careless and hostile ones (a bad regex, an unparsable ``Content-Length``,
a body declared at 12 MB, an oversized chunked body, deeply nested JSON, a prompt over the token limit,
``n * max_tokens`` over its limit). Each kind has the status it should get; a good request may also be
turned away with 429 (queue full) or 503 (too many connections). Printed: the count per kind and
status, how many got a wrong answer (a status not allowed for the kind, a 200 whose body does not
follow the format, a 4xx/5xx body not in OpenAI's error shape, or no answer), latency p50/p99, the
process's peak RSS (server and clients together), and whether the server still answers afterwards.

Usage: ``python benchmarks/load_serve.py [--requests 200] [--seed 0]``
"""
from __future__ import annotations

import argparse
import json
import random
import re
import resource
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REGEX = r"[A-Z]{2}-[0-9]{3}"
BUSY = {429, 503}


@dataclass
class Outcome:
    """One request's kind, status (0 when no answer came), latency and whether the answer was right."""

    kind: str
    status: int
    seconds: float
    correct: bool


def _send(port: int, head: bytes, body: bytes, timeout: float) -> tuple[int, bytes]:
    """Send raw bytes, read the reply to the end; ``(status, body)`` or ``(0, b"")`` when none came."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(head + body)
        except OSError:
            pass
        chunks = []
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                chunks.append(data)
                if _complete(b"".join(chunks)):
                    break
        except OSError:
            pass
    reply = b"".join(chunks)
    match = re.match(rb"HTTP/1\.[01] (\d{3})", reply)
    if not match:
        return 0, b""
    head_end = reply.find(b"\r\n\r\n")
    payload = reply[head_end + 4:] if head_end >= 0 else b""
    if b"transfer-encoding: chunked" in reply[:head_end].lower():
        payload = _dechunk(payload)
    return int(match.group(1)), payload


def _complete(reply: bytes) -> bool:
    head_end = reply.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    head = reply[:head_end].lower()
    found = re.search(rb"content-length: (\d+)", head)
    if found:
        return len(reply) - head_end - 4 >= int(found.group(1))
    return reply.endswith(b"0\r\n\r\n")


def _dechunk(data: bytes) -> bytes:
    out, pos = [], 0
    while True:
        end = data.find(b"\r\n", pos)
        if end < 0:
            return b"".join(out)
        size = int(data[pos:end].split(b";")[0] or b"0", 16)
        if size == 0:
            return b"".join(out)
        out.append(data[end + 2:end + 2 + size])
        pos = end + 2 + size + 2


def _post(path: str, body: bytes, length: str | None = None, chunked: bool = False) -> bytes:
    head = f"POST /v1{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\n"
    if chunked:
        head += "Transfer-Encoding: chunked\r\n"
    else:
        head += f"Content-Length: {length if length is not None else len(body)}\r\n"
    return (head + "\r\n").encode()


def _is_error(payload: bytes) -> bool:
    try:
        error = json.loads(payload)["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return isinstance(error, dict) and {"message", "type", "param", "code"} <= set(error)


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def kinds(max_body_bytes: int, max_prompt_tokens: int) -> dict[str, tuple[Callable[[], tuple[bytes, bytes]], set[int], Callable[[bytes], bool]]]:
    """Each request kind: how to build it, the statuses it may get, and how to check a 200 body."""
    def completion(check: Callable[[str], bool]) -> Callable[[bytes], bool]:
        return lambda p: all(check(ch.get("text", ch.get("message", {}).get("content", ""))) for ch in json.loads(p)["choices"])

    def streamed(p: bytes) -> bool:
        text = p.decode(errors="replace")
        deltas = [json.loads(line[6:]) for line in text.split("\n") if line.startswith("data: {")]
        content = "".join(d["choices"][0]["delta"].get("content") or "" for d in deltas if "choices" in d)
        return text.rstrip().endswith("data: [DONE]") and re.fullmatch(REGEX, content) is not None

    def body(path: str, value: dict[str, Any]) -> tuple[bytes, bytes]:
        data = _json(value)
        return _post(path, data), data

    oversized = b'{"prompt": "' + b"x" * (max_body_bytes + 65536) + b'"}'
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(oversized), oversized)
    nested = b'{"prompt": "x", "a": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    good = {200} | BUSY
    return {
        "free text": (lambda: body("/completions", {"prompt": "Hello", "max_tokens": 4}), good, completion(lambda t: isinstance(t, str))),
        "choice": (lambda: body("/completions", {"prompt": "Pick:", "max_tokens": 3, "choice": ["yes", "no"]}), good,
                   completion(lambda t: t in ("yes", "no"))),
        "regex n=2": (lambda: body("/chat/completions", {"messages": [{"role": "user", "content": "Code?"}], "n": 2, "max_tokens": 8,
                                                         "regex": REGEX}), good, completion(lambda t: re.fullmatch(REGEX, t) is not None)),
        "stream": (lambda: body("/chat/completions", {"messages": [{"role": "user", "content": "Code?"}], "max_tokens": 8, "stream": True,
                                                      "regex": REGEX}), good, streamed),
        "bad regex": (lambda: body("/completions", {"prompt": "x", "regex": "(unclosed"}), {400} | BUSY, lambda p: False),
        "Content-Length abc": (lambda: (_post("/completions", b"", length="abc"), b'{"prompt": "x"}'), {400, 503}, lambda p: False),
        "12 MB declared": (lambda: (_post("/completions", b"", length=str(12 * 2**20)), b'{"prompt": "' + b"x" * 65536), {413, 503},
                           lambda p: False),
        "oversized chunked": (lambda: (_post("/completions", b"", chunked=True), chunked), {413, 503}, lambda p: False),
        "deep nesting": (lambda: (_post("/completions", nested), nested), {400, 503}, lambda p: False),
        "long prompt": (lambda: body("/completions", {"prompt": "word " * (max_prompt_tokens + 10), "max_tokens": 1}), {400} | BUSY,
                        lambda p: False),
        "n * max_tokens": (lambda: body("/completions", {"prompt": "x", "n": 16, "max_tokens": 4096}), {400} | BUSY, lambda p: False),
    }


def run_load(port: int, requests: int, seed: int, max_body_bytes: int, max_prompt_tokens: int, timeout: float = 300.0) -> list[Outcome]:
    """Fire ``requests`` mixed requests at once at the server on ``port``; one :class:`Outcome` each."""
    table = kinds(max_body_bytes, max_prompt_tokens)
    names = sorted(table)
    plan = [names[i % len(names)] for i in range(requests)]
    random.Random(seed).shuffle(plan)
    outcomes: list[Outcome | None] = [None] * requests
    gate = threading.Barrier(requests)

    def one(i: int) -> None:
        build, allowed, check = table[plan[i]]
        head, body = build()
        gate.wait()
        start = time.perf_counter()
        try:
            status, payload = _send(port, head, body, timeout)
        except OSError:
            status, payload = 0, b""
        seconds = time.perf_counter() - start
        if status == 200:
            try:
                correct = 200 in allowed and check(payload)
            except (ValueError, KeyError, TypeError, IndexError):
                correct = False
        else:
            correct = status in allowed and (status == 503 or _is_error(payload) or (status == 400 and plan[i] == "Content-Length abc"))
        outcomes[i] = Outcome(plan[i], status, seconds, correct)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 30)
    return [o if o is not None else Outcome(plan[i], 0, timeout, False) for i, o in enumerate(outcomes)]


def peak_rss_mib() -> float:
    """This process's peak resident memory in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(outcomes: list[Outcome], alive: bool) -> str:
    """The printed table: counts per kind and status, wrong answers, latency percentiles, peak RSS."""
    counts = Counter((o.kind, o.status) for o in outcomes)
    statuses = sorted({o.status for o in outcomes})
    kinds_seen = sorted({o.kind for o in outcomes})
    width = max(len(k) for k in kinds_seen) + 2
    lines = ["kind".ljust(width) + "".join(f"{s:>6}" for s in statuses) + "  wrong"]
    for kind in kinds_seen:
        wrong = sum(1 for o in outcomes if o.kind == kind and not o.correct)
        lines.append(kind.ljust(width) + "".join(f"{counts[(kind, s)]:>6}" for s in statuses) + f"{wrong:>7}")
    lines.append("total".ljust(width) + "".join(f"{sum(counts[(k, s)] for k in kinds_seen):>6}" for s in statuses)
                 + f"{sum(not o.correct for o in outcomes):>7}")
    times = sorted(o.seconds for o in outcomes)
    p50, p99 = times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))]
    lines.append(f"latency p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms; peak RSS {peak_rss_mib():.0f} MiB; "
                 f"server still answering: {'yes' if alive else 'NO'}")
    return "\n".join(lines)


def still_answering(port: int) -> bool:
    """Whether a plain request right after the load gets a correct 200."""
    data = _json({"prompt": "Pick:", "max_tokens": 3, "choice": ["yes", "no"]})
    status, payload = _send(port, _post("/completions", data), data, 120)
    return status == 200 and json.loads(payload)["choices"][0]["text"] in ("yes", "no")


def main() -> int:
    """Start a server over the tiny random test model, run the load, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from constrain.openai_compat import Server
    from tests.fixtures import tokenizers
    from tests.fixtures.models import tiny_llama

    tok = tokenizers.gpt2()
    model = tiny_llama(tok, seed=0)
    with Server(model, tok, name="tiny", port=0, max_prompt_tokens=512) as server:
        outcomes = run_load(server.port, args.requests, args.seed, server.engine.limits.max_body_bytes, 512)
        alive = still_answering(server.port)
    print(report(outcomes, alive))
    return 0 if alive and all(o.correct for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
