"""`constrain serve` on 127.0.0.1 with a tiny model, driven by the official openai client and by ours."""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

import constrain as c
from constrain.openai_compat import Client, RemoteError, Server
from constrain.sampling import sample, vote

openai = pytest.importorskip("openai")

CODE = r"[A-Z]{2}-[0-9]{3}"
USER = [{"role": "user", "content": "Give a code."}]


SECRET = "hunter2-secret"


@pytest.fixture(scope="module")
def grammar_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An operator's grammar folder: ``parens.lark`` imports a rule from ``atoms.lark`` next to it."""
    folder = tmp_path_factory.mktemp("operator-grammars")
    (folder / "atoms.lark").write_text('atom: "x" | "y"\n')
    (folder / "parens.lark").write_text('start: "(" start ")" | atom\n%import .atoms.atom\n')
    return folder


@pytest.fixture(scope="module")
def server(tiny, grammar_dir: Path) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    model, tok = tiny
    with Server(model, tok, name="tiny", port=0, grammars={"parens": grammar_dir / "parens.lark"}) as srv:
        yield srv


def post(server: Server, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST a JSON body to the server; the HTTP status and the decoded JSON reply (errors included)."""
    request = urllib.request.Request(server.url + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


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


def test_grammar_field_is_text_never_a_file(server: Server, tmp_path: Path) -> None:
    """A ``grammar`` naming a server-side file is bad grammar text: the file is never read (not even a valid
    grammar file), nothing of it comes back, and an existing file fails exactly like a missing one."""
    valid = tmp_path / "secret.lark"
    valid.write_text(f'start: "{SECRET}"\n')
    plain = tmp_path / "secret.txt"
    plain.write_text(f"root:x:0:0:{SECRET}:/root:/bin/bash\n")
    missing = tmp_path / "missing.lark"
    messages = {}
    for path in ("/etc/passwd", str(valid), str(plain), str(missing)):
        status, reply = post(server, "/chat/completions", {"messages": USER, "max_tokens": 8, "grammar": path})
        assert status == 400, (path, reply)
        error = reply["error"]
        assert error["param"] == "grammar" and SECRET not in json.dumps(reply) and "root:x" not in json.dumps(reply)
        messages[path] = error["message"].replace(path, "<path>")
    assert len(set(messages.values())) == 1, messages


def test_grammar_text_cannot_import_files(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret.lark").write_text(f'SECRET: "{SECRET}"\n')
    monkeypatch.chdir(tmp_path)
    for text in ("start: SECRET\n%import .secret (SECRET)\n", "start: SECRET\n%import secret.SECRET\n"):
        status, reply = post(server, "/completions", {"prompt": "G:", "max_tokens": 8, "grammar": text})
        assert status == 400 and SECRET not in json.dumps(reply)
        assert "file imports are only allowed in grammar files" in reply["error"]["message"]
        assert "line 2" in reply["error"]["message"]


def test_named_grammar_from_the_operator(oai: Any, server: Server, grammar_dir: Path) -> None:
    """``grammar_name`` picks an operator's grammar file (with its relative import); an unknown name lists the
    known names and never where the grammars live."""
    for seed in range(3):
        reply = oai.completions.create(model="tiny", prompt="G:", max_tokens=12, seed=seed, extra_body={"grammar_name": "parens"})
        text = reply.choices[0].text
        assert re.fullmatch(r"(\()*[xy](\))*", text) and text.count("(") == text.count(")"), text
    status, reply = post(server, "/chat/completions", {"messages": USER, "grammar_name": "../parens"})
    assert status == 400 and reply["error"]["param"] == "grammar_name"
    assert "'parens'" in reply["error"]["message"] and str(grammar_dir) not in json.dumps(reply)
    assert "parens.lark" not in json.dumps(reply)
    status, reply = post(server, "/chat/completions", {"messages": USER, "grammar_name": ["parens"]})
    assert status == 400 and "must be a string" in reply["error"]["message"]
    status, reply = post(server, "/chat/completions", {"messages": USER, "grammar_name": "parens", "regex": "a"})
    assert status == 400 and "at most one" in reply["error"]["message"]


def test_grammar_name_without_named_grammars() -> None:
    from constrain.openai_compat.protocol import RequestError, output_from_body

    with pytest.raises(RequestError, match="no named grammars"):
        output_from_body({"grammar_name": "sql"})
    parens = c.grammar('start: "(" start ")" | "x"')
    assert output_from_body({"grammar_name": "p"}, {"p": parens}) is parens


def test_named_grammars_are_files_text_or_constraints(tmp_path: Path) -> None:
    from constrain.openai_compat.server import compile_grammars

    (tmp_path / "a.lark").write_text('start: "a"+\n')
    (tmp_path / "b.gbnf").write_text('root ::= "b"+\n')
    compiled = compile_grammars({"a": tmp_path / "a.lark", "b": tmp_path / "b.gbnf", "t": 'start: "t"+', "r": c.regex("r+")})
    assert all(compiled[k].accepts(k * 2) for k in "abtr")
    with pytest.raises(ValueError, match="grammar name"):
        compile_grammars({"a b": 'start: "t"'})
    with pytest.raises(FileNotFoundError):
        compile_grammars({"gone": tmp_path / "gone.lark"})


def test_serve_grammar_option(tmp_path: Path) -> None:
    import argparse

    from constrain.openai_compat import add_serve_parser

    (tmp_path / "sql.lark").write_text('start: "SELECT"\n')
    parser = argparse.ArgumentParser(prog="constrain")
    add_serve_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", "--grammar", f"sql={tmp_path / 'sql.lark'}", "--grammar", f"q={tmp_path / 'sql.lark'}"])
    assert args.grammar == [("sql", tmp_path / "sql.lark"), ("q", tmp_path / "sql.lark")]
    for bad in ("sql", f"={tmp_path / 'sql.lark'}", f"sql={tmp_path / 'missing.lark'}", f"a/b={tmp_path / 'sql.lark'}"):
        with pytest.raises(SystemExit):
            parser.parse_args(["serve", "--grammar", bad])
