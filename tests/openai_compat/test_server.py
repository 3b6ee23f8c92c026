"""`constrain serve` on 127.0.0.1 with a tiny model, driven by the official openai client and by ours."""
from __future__ import annotations

import json
import re
from typing import Any, Iterator

import pytest

import constrain as c
from constrain.openai_compat import Client, RemoteError, Server
from constrain.sampling import sample, vote

openai = pytest.importorskip("openai")

CODE = r"[A-Z]{2}-[0-9]{3}"
USER = [{"role": "user", "content": "Give a code."}]


@pytest.fixture(scope="module")
def server(tiny) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    model, tok = tiny
    with Server(model, tok, name="tiny", port=0) as srv:
        yield srv


@pytest.fixture(scope="module")
def oai(server: Server) -> Any:
    return openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0, timeout=60)


def test_models(oai: Any) -> None:
    assert [m.id for m in oai.models.list()] == ["tiny"]


def test_chat_with_regex_extension_and_n(oai: Any) -> None:
    reply = oai.chat.completions.create(
        model="tiny", messages=USER, max_tokens=10, temperature=1.0, seed=1, n=3, extra_body={"regex": CODE}
    )
    assert len(reply.choices) == 3
    for choice in reply.choices:
        assert re.fullmatch(CODE, choice.message.content), choice.message.content
        assert choice.finish_reason == "stop"
    assert reply.usage.completion_tokens > 0 and reply.usage.prompt_tokens > 0


def test_chat_with_json_schema_response_format(oai: Any) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}, "ok": {"type": "boolean"}}, "required": ["n", "ok"], "additionalProperties": False}
    reply = oai.chat.completions.create(
        model="tiny", messages=USER, max_tokens=24, temperature=0.8, seed=2,
        response_format={"type": "json_schema", "json_schema": {"name": "r", "schema": schema}},
    )
    value = json.loads(reply.choices[0].message.content)
    assert set(value) == {"n", "ok"} and isinstance(value["ok"], bool)


def test_completions_with_choice_and_grammar(oai: Any) -> None:
    reply = oai.completions.create(model="tiny", prompt="Pick:", max_tokens=5, extra_body={"choice": ["yes", "no"]})
    assert reply.choices[0].text in ("yes", "no")
    grammar = 'start: "(" start ")" | "x"'
    reply = oai.completions.create(model="tiny", prompt="G:", max_tokens=9, temperature=0, extra_body={"grammar": grammar})
    assert reply.choices[0].text.count("(") == reply.choices[0].text.count(")") and "x" in reply.choices[0].text


def test_streaming_chat(oai: Any) -> None:
    chunks = oai.chat.completions.create(model="tiny", messages=USER, max_tokens=10, stream=True, seed=3, extra_body={"regex": CODE})
    parts = [ch.choices[0].delta.content or "" for ch in chunks]
    assert re.fullmatch(CODE, "".join(parts)) and len([p for p in parts if p]) > 1


def test_clear_errors(oai: Any) -> None:
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        oai.chat.completions.create(model="other", messages=USER)
    with pytest.raises(openai.BadRequestError, match="regex"):
        oai.chat.completions.create(model="tiny", messages=USER, extra_body={"regex": "(unclosed"})
    with pytest.raises(openai.BadRequestError, match="at most one"):
        oai.chat.completions.create(model="tiny", messages=USER, extra_body={"regex": "a", "choice": ["b"]})
    with pytest.raises(openai.BadRequestError, match="max_tokens"):
        oai.chat.completions.create(model="tiny", messages=USER, max_tokens=0)


def test_our_client(server: Server) -> None:
    with Client(server.url, "tiny", logprobs=True) as client:
        assert client.models() == ["tiny"]
        reply = client.chat(USER, max_tokens=10, temperature=0, constraint_fields={"regex": CODE})
        assert re.fullmatch(CODE, reply.text) and reply.mean_logprob is not None and reply.mean_logprob < 0
        assert client.fields_supported is True
        assert re.fullmatch(CODE, "".join(client.stream(USER, max_tokens=10, constraint_fields={"regex": CODE})))
        assert client.complete("n:", max_tokens=4, regex="[0-9]{2}").text.isdigit()
        result = sample(client, None, "Colour?", c.choice(["red", "green", "blue"]), vote(4), seed=5, max_new_tokens=4)
        assert result.valid and result.value in ("red", "green", "blue")
        assert len(result.attempts) == 4 and 0 < result.confidence <= 1
        with pytest.raises(RemoteError, match="HTTP 404"):
            Client(server.url, "other", max_retries=0).chat(USER)


def test_serve_subcommand_parser() -> None:
    import argparse

    from constrain.openai_compat import add_serve_parser

    parser = argparse.ArgumentParser(prog="constrain")
    add_serve_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", "--model", "smollm2", "--port", "0"])
    assert args.model == "smollm2" and args.host == "127.0.0.1" and args.port == 0 and callable(args.func)
