"""``generate`` and ``stream``: a model, a prompt, an output type -> a valid, typed result.

The decoding loop is our own (not ``model.generate``) so it can do what a logits
processor cannot: close within the token budget (never allow a token after which the
output cannot finish in ``max_new_tokens``), jump forward over bytes the constraint
forces (appended in canonical tokenization without one model call per token, with the
KV cache rolled back where re-tokenization changes earlier tokens), and report the mean
log-probability of the chosen tokens under the unconstrained model.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

from ..errors import ConstrainError
from ..mask.budget import choose_within_budget
from ..mask.matcher import Matcher
from .choosing import filter_scores, ranked_choices
from .describe import describe as describe_output
from .kv_cache import forward_with_cache, new_cache
from .logits import apply_token_bitmask_
from .output import OutputSpec, resolve_output
from .tokenization import plan_jump, retokenize
from .vocab_cache import vocabulary_for


@dataclass
class Generation:
    """The result of one generation: the typed value and how it was produced."""

    value: Any
    text: str
    token_ids: list[int]
    mean_logprob: float
    finish_reason: str
    valid: bool
    forward_passes: int = 0
    jump_forward_tokens: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def num_tokens(self) -> int:
        return len(self.token_ids)


@dataclass
class StreamEvent:
    """One step of :func:`stream`: the new text, the text so far, and (for JSON) the partial value."""

    delta: str
    text: str
    partial: Any = None
    done: bool = False
    result: Generation | None = None


@dataclass
class _State:
    out_ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    fed: int = 0
    forwards: int = 0
    jumped: int = 0


def _prompt_ids(tokenizer: Any, prompt: str | Sequence[dict[str, str]], extra: str | None) -> list[int]:
    if isinstance(prompt, str):
        text = prompt if extra is None else f"{prompt}\n\n{extra}"
        return list(tokenizer.encode(text, add_special_tokens=True))
    messages = [dict(m) for m in prompt]
    if extra is not None:
        last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=None)
        if last_user is None:
            messages.append({"role": "user", "content": extra})
        else:
            messages[last_user]["content"] = f"{messages[last_user]['content']}\n\n{extra}"
    if not getattr(tokenizer, "chat_template", None):
        raise ConstrainError("messages were given but the tokenizer has no chat template; pass a string prompt")
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    if isinstance(ids, dict) or hasattr(ids, "keys"):
        ids = ids["input_ids"]
    return list(ids)


def _any_finite(scores: Any) -> bool:
    """``torch.isfinite(scores).any()``; one max-reduction answers it when the max is finite (the usual case)."""
    import torch

    return bool(torch.isfinite(scores.max())) or bool(torch.isfinite(scores).any())


def _choose(logits: Any, temperature: float, top_k: int | None, top_p: float | None, generator: Any) -> int:
    import torch

    if temperature <= 0:
        return int(torch.argmax(logits))
    scores = filter_scores((logits / temperature).unsqueeze(0), top_k, top_p)[0]
    probs = torch.softmax(scores, -1)
    return int(torch.multinomial(probs, 1, generator=generator))


class _Decoder:
    """One sequence's decoding loop over a causal LM with a KV cache."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        prompt_ids: list[int],
        spec: OutputSpec,
        max_new_tokens: int,
        temperature: float,
        top_k: int | None,
        top_p: float | None,
        seed: int | None,
        stop: Sequence[str] | None,
        jump_forward: bool,
        budget: bool,
        canonical_tokens: bool = True,
    ) -> None:
        import torch

        self.model = model
        self.tokenizer = tokenizer
        self.prompt_ids = prompt_ids
        self.spec = spec
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.top_k = top_k
        self.top_p = top_p
        self.stop = list(stop or [])
        self.jump_forward = jump_forward and spec.constraint is not None
        self.canonical_tokens = canonical_tokens
        self.budget = budget and spec.constraint is not None
        self.budget_in_mask = self.budget
        width = int(model.get_output_embeddings().weight.shape[0])
        self.vocab = vocabulary_for(tokenizer, width)
        self.eos = set(self.vocab.eos_token_ids)
        if not self.eos and getattr(model.generation_config, "eos_token_id", None) is not None:
            eos = model.generation_config.eos_token_id
            self.eos = set(eos if isinstance(eos, list) else [eos])
        self.matcher: Matcher | None = spec.constraint.matcher(self.vocab) if spec.constraint else None
        self.device = next(model.parameters()).device
        # sampling runs where the logits are: a CUDA multinomial needs a CUDA generator
        self.generator = torch.Generator(device=self.device).manual_seed(seed) if seed is not None else None
        self.state = _State()
        self.past: Any = new_cache(model)
        self.finish_reason = ""

    def _forward(self, ids: list[int]) -> Any:
        import torch

        with torch.no_grad():
            out = forward_with_cache(self.model, torch.tensor([ids], device=self.device), self.past)
        self.state.forwards += 1
        return out.logits[0].float()

    def _mask(self, remaining: int) -> np.ndarray:
        assert self.matcher is not None
        if self.budget_in_mask:
            try:
                words = self.matcher.budget_mask(remaining)
                if words.any():
                    return words
            except NotImplementedError:
                self.budget_in_mask = False  # the chosen token is checked instead (``choose_within_budget``)
        return self.matcher.mask()

    def _jump(self) -> list[int]:
        """Append forced bytes as the tokenizer's own tokens, up to a boundary that no later token crosses; returns the tokens to feed next."""
        assert self.matcher is not None
        st = self.state
        jump = plan_jump(self.matcher, self.vocab, self.tokenizer, st.out_ids, self.max_new_tokens, self.budget)
        if jump is None:
            return []
        st.jumped += len(jump.tokens) - (len(st.out_ids) - jump.keep)
        self.matcher = jump.matcher
        return self._replace_tail(jump.keep, jump.tokens)

    def _retokenize(self) -> list[int]:
        """Rewrite the output in the tokenizer's own tokens where a new token changed them (``canonical_tokens``); returns the tokens to feed next."""
        redo = retokenize(self.matcher, self.vocab, self.tokenizer, self.state.out_ids, self.max_new_tokens, self.budget)
        if redo is None:
            return []
        self.matcher = redo.matcher
        return self._replace_tail(redo.keep, redo.tokens)

    def _replace_tail(self, keep: int, tokens: list[int]) -> list[int]:
        """Keep the first ``keep`` output tokens, then ``tokens``, rolling the KV cache back over replaced ones; returns the tokens to feed next."""
        st = self.state
        st.out_ids = st.out_ids[:keep] + tokens
        st.logprobs = st.logprobs[:keep]
        if st.fed > keep:
            st.fed = keep
            excess = self.past.get_seq_length() - (len(self.prompt_ids) + keep)
            if excess > 0:
                self.past.crop(-excess)
        return st.out_ids[st.fed :]

    def steps(self) -> Iterator[str]:
        """Decode, yielding each new piece of text; sets ``finish_reason`` at the end."""
        import torch

        st = self.state
        pending = list(self.prompt_ids)
        prev_text = ""
        while True:
            logits = self._forward(pending)  # queued on CUDA: nothing below waits for it until it is read
            n_prev = len(pending)
            words = None
            if self.matcher is not None and len(st.out_ids) < self.max_new_tokens:
                # the host computes the mask while the device runs the forward pass
                words = self._mask(self.max_new_tokens - len(st.out_ids))
            if n_prev > 1 and st.fed < len(st.out_ids):
                scored = torch.log_softmax(logits, -1)
                known = len(st.logprobs)
                for i in range(known, len(st.out_ids)):
                    row = i - st.fed - 1
                    if 0 <= row < n_prev:
                        st.logprobs.append(float(scored[row, st.out_ids[i]]))
            st.fed = len(st.out_ids)
            last = logits[-1]
            if len(st.out_ids) >= self.max_new_tokens:
                self.finish_reason = "length"
                break
            raw = torch.log_softmax(last, -1)
            scores = last.clone()
            if words is not None:
                apply_token_bitmask_(scores, words)
                if not _any_finite(scores):
                    self.finish_reason = "dead_end"
                    break
            token = _choose(scores, self.temperature, self.top_k, self.top_p, self.generator)
            if self.matcher is not None and self.budget and not self.budget_in_mask and token not in self.eos:
                token = choose_within_budget(
                    self.matcher, self.max_new_tokens - len(st.out_ids), token,
                    lambda t: ranked_choices(scores, t, self.temperature, self.top_k, self.top_p, self.generator))
            if token in self.eos:
                self.finish_reason = "eos"
                break
            if self.matcher is not None:
                self.matcher.advance(token)
            st.out_ids.append(token)
            st.logprobs.append(float(raw[token]))
            pending = [token]
            if self.canonical_tokens:
                pending = self._retokenize() or pending
            if self.jump_forward:
                jumped = self._jump()
                if jumped:
                    pending = jumped
            text = self.vocab.decode(st.out_ids).decode("utf-8", errors="replace")
            if text.startswith(prev_text):
                yield text[len(prev_text) :]
            prev_text = text
            if self.stop and self.matcher is None:
                hit = min((text.find(s) for s in self.stop if s in text), default=-1)
                if hit >= 0:
                    self.finish_reason = "stop"
                    break
            if self.matcher is not None and self.matcher.is_accepting() and self._only_eos():
                self.finish_reason = "complete"
                break
        return

    def _only_eos(self) -> bool:
        assert self.matcher is not None
        return self.matcher.only_eos_allowed()

    def result(self, seconds: float) -> Generation:
        st = self.state
        text = self.vocab.decode(st.out_ids).decode("utf-8", errors="replace")
        if self.finish_reason == "stop":
            cut = min(text.find(s) for s in self.stop if s in text)
            text = text[:cut]
        valid = self.matcher is None or self.matcher.is_accepting()
        value: Any = None
        error = None
        if valid:
            try:
                value = self.spec.parse(text)
            except Exception as e:  # the parser is the user's type: report, don't raise
                valid, error = False, f"{type(e).__name__}: {e}"
        else:
            error = f"output incomplete ({self.finish_reason})"
        mean = float(np.mean(st.logprobs)) if st.logprobs else 0.0
        return Generation(value, text, list(st.out_ids), mean, self.finish_reason, valid, st.forwards, st.jumped, seconds, error)


def _decoder(
    model: Any,
    tokenizer: Any,
    prompt: str | Sequence[dict[str, str]],
    output: Any,
    max_new_tokens: int,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    seed: int | None,
    stop: Sequence[str] | None,
    jump_forward: bool,
    budget: bool,
    describe: bool,
    canonical_tokens: bool = True,
) -> _Decoder:
    spec = resolve_output(output)
    extra = describe_output(output) if describe else None
    ids = _prompt_ids(tokenizer, prompt, extra)
    return _Decoder(model, tokenizer, ids, spec, max_new_tokens, temperature, top_k, top_p, seed, stop, jump_forward, budget,
                    canonical_tokens)


def generate(
    model: Any,
    tokenizer: Any,
    prompt: str | Sequence[dict[str, str]],
    output: Any = None,
    *,
    max_new_tokens: int = 256,
    temperature: float = 0.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    stop: Sequence[str] | None = None,
    jump_forward: bool = True,
    budget: bool = True,
    describe: bool = False,
    canonical_tokens: bool = True,
) -> Generation:
    """Generate text that satisfies ``output`` (a constraint, Python type, ``Literal``, pydantic model or JSON Schema).

    A string prompt is used as is; a list of chat messages goes through the tokenizer's
    chat template. With ``budget=True`` the output is complete and valid within
    ``max_new_tokens`` whenever the constraint supports budget-aware closing. Jump-forward appends
    forced text as the tokenizer's own tokens and leaves to the model every token that could cross
    the end of it. With ``canonical_tokens`` (default) the model's own tokens are rewritten, after
    each step, the way the tokenizer writes the text so far (``'skill'``, ``'s'`` -> ``'skills'``), so
    the model always reads its own tokenization; ``token_ids`` are then those tokens.
    """
    start = time.perf_counter()
    decoder = _decoder(model, tokenizer, prompt, output, max_new_tokens, temperature, top_k, top_p, seed, stop, jump_forward, budget, describe,
                       canonical_tokens)
    for _ in decoder.steps():
        pass
    return decoder.result(time.perf_counter() - start)


def stream(
    model: Any,
    tokenizer: Any,
    prompt: str | Sequence[dict[str, str]],
    output: Any = None,
    **options: Any,
) -> Iterator[StreamEvent]:
    """Like :func:`generate`, yielding a :class:`StreamEvent` per step (text delta, text so far, partial JSON value), then a final one with the result."""
    from ..repair import repair

    start = time.perf_counter()
    keys = ("max_new_tokens", "temperature", "top_k", "top_p", "seed", "stop", "jump_forward", "budget", "describe", "canonical_tokens")
    defaults = {"max_new_tokens": 256, "temperature": 0.0, "top_k": None, "top_p": None, "seed": None, "stop": None, "jump_forward": True, "budget": True, "describe": False,
                "canonical_tokens": True}
    unknown = set(options) - set(keys)
    if unknown:
        raise TypeError(f"unknown options {sorted(unknown)}")
    args = {**defaults, **options}
    decoder = _decoder(model, tokenizer, prompt, output, *(args[k] for k in keys))
    is_json = decoder.spec.description == "JSON"
    text = ""
    for delta in decoder.steps():
        text += delta
        partial = None
        if is_json and text.strip():
            try:
                partial = repair(text, format="json").value
            except ConstrainError:
                partial = None
        yield StreamEvent(delta, text, partial)
    result = decoder.result(time.perf_counter() - start)
    yield StreamEvent("", result.text, result.value, True, result)
