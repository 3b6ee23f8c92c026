"""Text-to-SQL on GeoQuery: executable rate and execution accuracy, unconstrained vs grammar-constrained.

Runs SmolLM2-135M-Instruct (the built-in model) on CPU over GeoQuery questions
(``../shared/data/text2sql/geography``: the real SQLite database and gold SQL) under four conditions:

* ``unconstrained``            -- greedy free text; the SQL is taken from the reply (code fences and text
  after the first ``;`` removed), which is generous to this condition;
* ``generic grammar``          -- greedy under ``grammars/sqlite.lark`` (any identifier anywhere);
* ``database grammar``         -- greedy under ``constrain.sql.from_sqlite(db)`` (this database's names);
* ``database + exec best-of-5`` -- 5 samples (temperature 0.7) under the database grammar, each run
  read-only with a time limit, the answer chosen by result-set vote (``constrain.sql.generate_sql``).

A query is executable when SQLite runs it; it is correct when its result set equals the gold query's (as
multisets, rounded floats). Also reports how many gold queries the database grammar accepts.

Usage: python benchmarks/bench_text2sql.py [--questions 50] [--max-new-tokens 96] [--threads 1] [--model smollm2]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import constrain as c  # noqa: E402
import constrain.sql as sql  # noqa: E402
from constrain.generate.api import _prompt_ids  # noqa: E402
from constrain.generate.models import load_model  # noqa: E402
from constrain.sampling import decode_batch  # noqa: E402

GEO = Path(__file__).resolve().parents[2] / "shared" / "data" / "text2sql" / "geography"
DB = GEO / "geography-db.added-in-2020.sqlite"
EXAMPLE = ("what is the population of texas", "SELECT population FROM state WHERE state_name = 'texas';")


def prompt(schema: sql.Schema, question: str) -> list[dict[str, str]]:
    """Chat messages: the tables, one worked example, the question."""
    messages = sql.default_prompt(schema, EXAMPLE[0])
    messages.append({"role": "assistant", "content": EXAMPLE[1]})
    messages.append({"role": "user", "content": f"Question: {question}\nSQL:"})
    return messages


def extract_sql(text: str) -> str:
    """The SQL in a free-text reply: inside a code fence if any, up to the first ``;``."""
    fenced = re.search(r"```(?:sql)?\s*(.*?)(?:```|$)", text, re.S | re.I)
    body = fenced.group(1) if fenced else text
    return body.split(";")[0].strip()


def questions(n: int) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (GEO / "questions.jsonl").open(encoding="utf-8")]
    rows = [r for r in rows if r["executes_on_sqlite"]]
    return random.Random(0).sample(rows, n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=int, default=50)
    ap.add_argument("--max-new-tokens", type=int, default=96)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--json", metavar="PATH", help="also write every generated query here")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    model, tok = load_model(args.model)
    conn = sql.connect_read_only(DB)
    schema = sql.read_schema(conn)
    started = time.perf_counter()
    database = sql.from_sqlite(DB)
    build_s = time.perf_counter() - started
    generic = c.grammar(sql.specialize.GRAMMAR_PATH)
    rows = questions(args.questions)
    gold_keys = []
    for r in rows:
        ran = sql.execute(conn, r["gold_sql"])
        gold_keys.append(sql.result_key(ran.rows) if ran.ok else None)

    conditions = ["unconstrained", "generic grammar", "database grammar", "database + exec best-of-5"]
    stats = {k: {"executable": 0, "correct": 0, "seconds": 0.0, "tokens": 0} for k in conditions}
    records = []
    for i, r in enumerate(rows):
        messages = prompt(schema, r["question"])
        ids = _prompt_ids(tok, messages, None)
        record = {"question": r["question"], "gold": r["gold_sql"]}
        for name in conditions:
            t0 = time.perf_counter()
            if name == "database + exec best-of-5":
                result = sql.generate_sql(model, tok, r["question"], conn, n=5, constraint=database, prompt=messages,
                                          max_new_tokens=args.max_new_tokens, temperature=0.7, seed=i)
                query = result.sql or (result.attempts[0].sql if result.attempts else "")
                tokens = 0
            else:
                constraint = {"unconstrained": None, "generic grammar": generic, "database grammar": database}[name]
                batch = decode_batch(model, tok, ids, 1, constraint, max_new_tokens=args.max_new_tokens, temperatures=0.0, seed=i)
                text = batch.rows[0].text
                query = extract_sql(text) if constraint is None else text.strip()
                tokens = len(batch.rows[0].token_ids)
            ran = sql.execute(conn, query) if query else None
            st = stats[name]
            st["seconds"] += time.perf_counter() - t0
            st["tokens"] += tokens
            if ran is not None and ran.ok:
                st["executable"] += 1
                if gold_keys[i] is not None and sql.result_key(ran.rows) == gold_keys[i]:
                    st["correct"] += 1
            record[name] = {"sql": query, "ok": bool(ran and ran.ok), "error": ran.error if ran else "empty"}
        records.append(record)
        print(f"[{i + 1}/{len(rows)}] " + " | ".join(f"{k}: {stats[k]['executable']}/{stats[k]['correct']}" for k in conditions),
              file=sys.stderr, flush=True)

    gold_all = sorted({json.loads(line)["gold_sql"] for line in (GEO / "questions.jsonl").open(encoding="utf-8")})
    runnable = [q for q in gold_all if sql.execute(conn, q).ok]
    accepted = sum(database.accepts(q) for q in runnable)
    n = len(rows)
    print(f"\n## Text-to-SQL on GeoQuery ({n} questions, {args.model}, CPU, {args.threads} thread(s), greedy unless noted)\n")
    print("| condition | executable % | execution accuracy % | s/question |")
    print("|---|--:|--:|--:|")
    for k in conditions:
        st = stats[k]
        print(f"| {k} | {100 * st['executable'] / n:.1f} | {100 * st['correct'] / n:.1f} | {st['seconds'] / n:.2f} |")
    print(f"\nDatabase grammar: built in {build_s:.2f} s; accepts {accepted} of {len(runnable)} distinct gold queries that run "
          f"({100 * accepted / max(1, len(runnable)):.1f}%).")
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
