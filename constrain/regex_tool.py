"""Text to regex: ask a model for a Python regular expression, check every candidate, keep the best.

:func:`generate_regex` draws ``n`` candidates for a natural-language description (one batch on a
local model, through :func:`constrain.sample` with :func:`constrain.best_of`), with decoding held
to the syntax of Python regular expressions (``grammars/regex.lark``) unless ``constrained=False``.
Each candidate is then compiled with :func:`re.compile` and run on the examples with
``re.fullmatch`` semantics: positives must match, negatives must not. The winner is the candidate
that compiles and passes the most examples, ties broken by the mean token log-probability under
the unconstrained model, then by the order of drawing. A candidate that does not compile is never
chosen; if none compiles, the result has no regex.

Example (a sketch; any local model works, the built-in ``smollm2`` included)::

    import constrain as c
    from constrain.generate import load_model

    model, tokenizer = load_model("smollm2")
    result = c.regex_tool.generate_regex(
        model, tokenizer, "a US zip code: five digits, optionally a dash and four more digits",
        positive=["12345", "12345-6789"], negative=["1234", "12345-"], n=5,
    )
    print(result.regex, result.all_examples_passed)
    print(result.summary())                     # one line per candidate: compiles, examples passed, log-prob

Local models get the request with their answer already started by a backtick, so the regex ends
where the model closes the code span (or the line). A grammar-constrained candidate that was cut
short (by ``max_new_tokens``, the closing backtick or the end of its line) is a prefix of a
regex; it is completed by closing its open class and groups, trimming back to the longest prefix
that can be closed so, and the record says what was trimmed and appended.
Matching examples uses constrain's own automaton for the pattern where it can (linear time, the
same language as ``re.fullmatch``), so a pathological candidate such as ``(a*)*b`` cannot stall
the check by backtracking; patterns it refuses are matched with ``re.fullmatch`` itself.
"""
from __future__ import annotations

import functools
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from .errors import ConstrainError

REGEX_GRAMMAR_PATH = Path(__file__).resolve().parents[1] / "grammars" / "regex.lark"
"""The Lark grammar of Python regex syntax that constrained decoding follows."""

DEFAULT_INSTRUCTION = "Answer with the regular expression only, on one line, without quotes or explanation."

__all__ = [
    "REGEX_GRAMMAR_PATH",
    "RegexCandidate",
    "RegexResult",
    "build_prompt",
    "close_regex",
    "default_prompt",
    "evaluate_regex",
    "extract_regex",
    "generate_regex",
    "rank",
    "regex_grammar",
]


@dataclass
class RegexCandidate:
    """One generated regex and how it fared.

    ``text`` is the regex that was checked; ``raw_text`` is what the model produced. ``text`` is
    the answer up to its closing backtick (when the answer was started with one, see
    :func:`default_prompt`) and its first line break, or what :func:`extract_regex` finds in a free
    answer to a custom or remote prompt; a constrained answer cut short is then completed by
    :func:`close_regex`: ``trimmed`` characters dropped from its end and ``appended`` added. ``positives_passed`` counts positives that fully match, ``negatives_passed``
    negatives that do not; both are 0 when the regex does not compile.
    """

    index: int
    text: str
    raw_text: str
    compiles: bool
    error: str | None = None
    positives_passed: int = 0
    negatives_passed: int = 0
    num_positives: int = 0
    num_negatives: int = 0
    mean_logprob: float | None = None
    tokens: int = 0
    finish_reason: str = ""
    trimmed: int = 0
    appended: str = ""

    @property
    def passed(self) -> int:
        """Examples passed: positives matched plus negatives rejected."""
        return self.positives_passed + self.negatives_passed

    @property
    def all_passed(self) -> bool:
        """Whether the regex compiles and passes every example."""
        return self.compiles and self.passed == self.num_positives + self.num_negatives

    @property
    def completed(self) -> bool:
        """Whether the text was trimmed or extended to close a truncated candidate."""
        return bool(self.trimmed or self.appended)


@dataclass
class RegexResult:
    """The chosen regex (``None`` when no candidate compiles) and the record of every candidate."""

    regex: str | None
    chosen_index: int | None
    candidates: list[RegexCandidate]
    description: str
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    constrained: bool = True
    seconds: float = 0.0

    @property
    def valid(self) -> bool:
        """Whether some candidate compiled (and so ``regex`` is set)."""
        return self.chosen_index is not None

    @property
    def chosen(self) -> RegexCandidate | None:
        """The winning candidate, if any."""
        return None if self.chosen_index is None else self.candidates[self.chosen_index]

    @property
    def all_examples_passed(self) -> bool:
        """Whether the chosen regex passes every example."""
        return self.chosen is not None and self.chosen.all_passed

    @property
    def compile_rate(self) -> float:
        """Share of candidates that compile with ``re.compile``."""
        return sum(c.compiles for c in self.candidates) / len(self.candidates) if self.candidates else 0.0

    def summary(self) -> str:
        """One line per candidate: compiles, examples passed, mean log-probability and the regex."""
        total = len(self.positive) + len(self.negative)
        lines = []
        for cand in self.candidates:
            mark = "*" if cand.index == self.chosen_index else " "
            logprob = "n/a" if cand.mean_logprob is None else f"{cand.mean_logprob:.3f}"
            status = "ok" if cand.compiles else f"error={cand.error}"
            lines.append(f"{mark}{cand.index}: {status} passed={cand.passed}/{total} logprob={logprob} regex={cand.text!r}")
        return "\n".join(lines)


@functools.lru_cache(maxsize=1)
def regex_grammar() -> Any:
    """The grammar constraint for Python regex syntax (loaded once, so its masks are shared)."""
    if not REGEX_GRAMMAR_PATH.is_file():
        raise ConstrainError(f"the regex grammar is missing: expected {REGEX_GRAMMAR_PATH}")
    from .constraints import grammar

    return grammar(REGEX_GRAMMAR_PATH)


def build_prompt(description: str, positive: Sequence[str] = (), negative: Sequence[str] = ()) -> str:
    """The request shown to the model: the description, the examples and the answer format."""
    lines = [f"Write a Python regular expression that fully matches: {description.strip()}"]
    if positive:
        lines.append("It must match: " + ", ".join(repr(p) for p in positive))
    if negative:
        lines.append("It must not match: " + ", ".join(repr(n) for n in negative))
    lines.append(DEFAULT_INSTRUCTION)
    return "\n".join(lines)


_FENCE = re.compile(r"```[A-Za-z]*\n?(.*?)(?:```|$)", re.S)
_INLINE = re.compile(r"`([^`\n]+)`")
_QUOTED = re.compile(r"""^r?(['"])(.*)\1$""")


def extract_regex(text: str) -> str:
    """The regex in a free-form answer: a code block or inline code span if any, else the first line.

    Surrounding quotes (and a raw-string ``r`` prefix) and ``/.../`` delimiters are removed.

    >>> extract_regex('Here it is: `\\\\d{3}`.')
    '\\\\d{3}'
    >>> extract_regex('r"[a-z]+"\\nThis matches words.')
    '[a-z]+'
    """
    fence = _FENCE.search(text)
    if fence is not None and fence.group(1).strip():
        body = fence.group(1).strip().splitlines()[0]
    else:
        inline = _INLINE.search(text)
        if inline is not None:
            body = inline.group(1)
        else:
            body = next((line for line in text.splitlines() if line.strip()), "")
    body = body.strip()
    quoted = _QUOTED.match(body)
    if quoted is not None:
        body = quoted.group(2)
    if len(body) >= 2 and body.startswith("/") and body.endswith("/"):
        body = body[1:-1]
    return body


def _open_parts(prefix: str) -> tuple[int, bool]:
    """Open groups and whether a character class is open at the end of ``prefix`` (a lexical scan)."""
    depth = 0
    in_class = False
    class_start = -1
    i = 0
    while i < len(prefix):
        ch = prefix[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            if ch == "]" and i > class_start:
                in_class = False
        elif ch == "[":
            in_class = True
            class_start = i + 1
            if prefix[class_start : class_start + 1] == "^":
                class_start += 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        i += 1
    return depth, in_class


def _compiles(pattern: str) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # FutureWarning on set-like classes such as [--]
            re.compile(pattern)
    except (re.error, RecursionError, OverflowError, ValueError) as e:
        return f"{type(e).__name__}: {e}"
    return None


def close_regex(text: str, accepts: Callable[[str], bool] | None = None) -> tuple[str, int, str]:
    """Complete a cut-off regex: ``(regex, characters trimmed, suffix appended)``.

    Keeps the longest prefix of ``text`` that becomes a compiling regex once its open character
    class and groups are closed (and, with ``accepts``, that the closed text satisfies it, e.g.
    the grammar). ``text`` itself is returned unchanged when it already qualifies; the empty
    regex is the last resort.

    >>> close_regex("(ab[c-")
    ('(ab[c-])', 0, '])')
    >>> close_regex("a\\\\")
    ('a', 1, '')
    """
    for cut in range(len(text), -1, -1):
        prefix = text[:cut]
        depth, in_class = _open_parts(prefix)
        suffix = ("]" if in_class else "") + ")" * depth
        candidate = prefix + suffix
        if _compiles(candidate) is None and (accepts is None or accepts(candidate)):
            return candidate, len(text) - cut, suffix
    return "", len(text), ""


def _matcher(pattern: str) -> Callable[[str], bool]:
    """A full-match test for ``pattern``: constrain's automaton where it applies, else ``re.fullmatch``."""
    from .constraints import regex

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = re.compile(pattern)
        try:
            automaton = regex(pattern)
        except (ConstrainError, RecursionError, ValueError):
            automaton = None

    def matches(s: str) -> bool:
        if automaton is not None:
            try:
                return bool(automaton.accepts(s))
            except (ConstrainError, RecursionError):
                pass
        return compiled.fullmatch(s) is not None

    return matches


def evaluate_regex(pattern: str, positive: Sequence[str] = (), negative: Sequence[str] = ()) -> tuple[str | None, int, int]:
    """``(compile error or None, positives fully matched, negatives not fully matched)``.

    >>> evaluate_regex(r"\\d+", ["12", "x"], ["y", "3"])
    (None, 1, 1)
    >>> evaluate_regex("(", ["a"], [])[0].startswith("error")
    True
    """
    error = _compiles(pattern)
    if error is not None:
        return error, 0, 0
    matches = _matcher(pattern)
    return None, sum(1 for p in positive if matches(p)), sum(1 for n in negative if not matches(n))


SYSTEM_PROMPT = "You write Python regular expressions. Reply with the regular expression only: no words, no quotes, no code block."
ANSWER_PREFIX = "`"
"""Local models get their answer started with this (an inline code span): the regex then ends at the closing one."""


def default_prompt(tokenizer: Any, description: str, positive: Sequence[str] = (), negative: Sequence[str] = ()) -> tuple[Any, bool]:
    """``(prompt, prefilled)``: the request for ``description`` and whether the answer was started with a backtick.

    A local tokenizer with a chat template gets the system and user messages rendered as text
    followed by :data:`ANSWER_PREFIX`, so the model writes the regex at once and closes it with a
    backtick; a tokenizer without one gets the plain request followed by ``Regex: `` and the prefix.
    Remote models and functions (``tokenizer=None``) get chat messages, and their answer is
    searched for the regex by :func:`extract_regex`.
    """
    body = build_prompt(description, positive, negative)
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": body}]
    if tokenizer is None:
        return messages, False
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return f"{text}{ANSWER_PREFIX}", True
    return f"{SYSTEM_PROMPT}\n\n{body}\nRegex: {ANSWER_PREFIX}", True


def _answer_part(raw: str, prefilled: bool) -> str:
    """The part of an answer that can be the regex: up to the closing backtick (if prefilled) and the line's end."""
    if prefilled:
        raw = raw.split(ANSWER_PREFIX, 1)[0]
    return raw.split("\n", 1)[0]


def generate_regex(
    model: Any,
    tokenizer: Any,
    description: str,
    positive: Sequence[str] = (),
    negative: Sequence[str] = (),
    *,
    n: int = 5,
    max_new_tokens: int = 64,
    temperature: float = 0.7,
    seed: int | None = 0,
    constrained: bool = True,
    prompt: Any = None,
) -> RegexResult:
    """Generate ``n`` candidate regexes for ``description`` and return the best with every record.

    ``model``/``tokenizer`` are what :func:`constrain.sample` takes: a local transformers model
    and its tokenizer, a :class:`constrain.openai_compat.Client` (``tokenizer=None``) or a
    function ``prompt -> text`` (``tokenizer=None``, ``constrained=False``). ``positive`` examples
    must fully match and ``negative`` ones must not. Candidate 0 is greedy and the others are
    sampled at ``temperature`` (``seed`` makes the draw repeatable). With ``constrained=True``
    decoding follows Python regex syntax (``grammars/regex.lark``); with ``False`` the model
    writes freely. ``prompt`` replaces the default request of :func:`default_prompt` (a string
    or chat messages; a constrained answer is then cut at its first line break, and a free one
    searched by :func:`extract_regex`).

    Ranking: compiling candidates only, by examples passed, then mean log-probability, then
    drawing order.
    """
    from .sampling import best_of, sample

    if n < 1:
        raise ValueError("n must be at least 1")
    positive, negative = tuple(positive), tuple(negative)
    start = time.perf_counter()
    output = regex_grammar() if constrained else None
    if prompt is None:
        request, prefilled = default_prompt(tokenizer, description, positive, negative)
    else:
        request, prefilled = prompt, False
    drawn = sample(
        model,
        tokenizer,
        request,
        output,
        best_of(n, temperature=temperature),
        constrained=constrained,
        repair=False,
        describe=False,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        seed=seed,
        stop=[ANSWER_PREFIX, "\n"] if prefilled else (["\n"] if constrained else None),
    )
    grammar_accepts = output.accepts if output is not None else None
    candidates: list[RegexCandidate] = []
    for attempt in drawn.attempts:
        raw = attempt.text
        trimmed, appended = 0, ""
        if constrained:
            text = _answer_part(raw, prefilled)
            if grammar_accepts is not None and (not grammar_accepts(text) or _compiles(text) is not None):
                text, trimmed, appended = close_regex(text, grammar_accepts)
        else:
            text = _answer_part(raw, True) if prefilled else extract_regex(raw)
        error, pos, neg = evaluate_regex(text, positive, negative)
        candidates.append(
            RegexCandidate(
                index=len(candidates),
                text=text,
                raw_text=raw,
                compiles=error is None,
                error=error,
                positives_passed=pos,
                negatives_passed=neg,
                num_positives=len(positive),
                num_negatives=len(negative),
                mean_logprob=attempt.mean_logprob,
                tokens=attempt.tokens,
                finish_reason=attempt.finish_reason,
                trimmed=trimmed,
                appended=appended,
            )
        )
    chosen = rank(candidates)
    return RegexResult(
        regex=None if chosen is None else chosen.text,
        chosen_index=None if chosen is None else chosen.index,
        candidates=candidates,
        description=description,
        positive=positive,
        negative=negative,
        constrained=constrained,
        seconds=time.perf_counter() - start,
    )


def rank(candidates: Sequence[RegexCandidate]) -> RegexCandidate | None:
    """The best compiling candidate: most examples passed, then highest mean log-probability, then first drawn."""
    valid = [c for c in candidates if c.compiles]
    if not valid:
        return None

    def key(c: RegexCandidate) -> tuple[int, float, int]:
        logprob = c.mean_logprob if c.mean_logprob is not None else float("-inf")
        return c.passed, logprob, -c.index

    return max(valid, key=key)

