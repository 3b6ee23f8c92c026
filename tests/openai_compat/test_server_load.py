"""A bounded load of mixed concurrent requests on 127.0.0.1: every one answered correctly or properly refused."""
from __future__ import annotations

import resource

import pytest

from benchmarks.load_serve import run_load, still_answering
from constrain.openai_compat import Server

pytest.importorskip("uvicorn")


@pytest.mark.slow
def test_forty_mixed_requests_at_once(tiny) -> None:  # type: ignore[no-untyped-def]
    model, tok = tiny
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with Server(model, tok, name="tiny", port=0, max_prompt_tokens=512, max_pending=8) as server:
        outcomes = run_load(server.port, 40, seed=1, max_body_bytes=server.engine.limits.max_body_bytes, max_prompt_tokens=512)
        wrong = [o for o in outcomes if not o.correct]
        assert not wrong, wrong
        assert {o.status for o in outcomes} >= {200, 400, 413}
        assert still_answering(server.port)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 1024, grown_mib
