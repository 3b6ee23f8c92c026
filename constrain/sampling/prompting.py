"""Prompt edits made by sampling: the format instruction, and re-asking with validation errors.

A prompt is a string or a list of chat messages. Instructions go at the end of the last
user message (or the end of the string); feedback after a failed try appends the failed
answer as the assistant's turn and the errors as a new user turn, so a chat model sees
exactly what it said and what was wrong with it.
"""
from __future__ import annotations

from typing import Any, Sequence

MAX_ERRORS_SHOWN = 8


def with_instruction(prompt: Any, instruction: str) -> Any:
    """``prompt`` with ``instruction`` appended to its last user message (or to the string)."""
    if isinstance(prompt, str):
        return f"{prompt}\n\n{instruction}"
    messages = [dict(m) for m in prompt]
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=None)
    if last_user is None:
        messages.append({"role": "user", "content": instruction})
    else:
        messages[last_user]["content"] = f"{messages[last_user]['content']}\n\n{instruction}"
    return messages


def feedback_text(errors: Sequence[str]) -> str:
    """The re-ask message: the validation errors, one per line, and what to do."""
    shown = list(errors[:MAX_ERRORS_SHOWN])
    more = len(errors) - len(shown)
    lines = "\n".join(f"- {e}" for e in shown)
    if more > 0:
        lines += f"\n- ... and {more} more"
    return f"Your answer was not valid:\n{lines}\nReply again with a corrected answer only."


def with_feedback(prompt: Any, answer: str, errors: Sequence[str]) -> Any:
    """``prompt`` extended by the failed ``answer`` and a message listing its ``errors``."""
    message = feedback_text(errors)
    if isinstance(prompt, str):
        return f"{prompt}{answer}\n\n{message}\n"
    return [dict(m) for m in prompt] + [
        {"role": "assistant", "content": answer},
        {"role": "user", "content": message},
    ]
