"""KV caches for the decoding loops: one ``DynamicCache`` per run, passed under the name the model's forward takes.

Newer transformers versions renamed the forward argument ``past_key_values`` to ``cache`` and warn on the
old name; versions before the rename only know ``past_key_values`` and return legacy tuples unless given a
``Cache`` object. So the name is read from the model's own ``forward`` signature (feature detection, not
version strings), and the loops build the ``DynamicCache`` themselves and keep it: the model fills it in
place, and the output's cache attribute (itself a deprecated name on newer versions) is never read.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any

__all__ = ["cache_keyword", "forward_with_cache", "new_cache"]


@functools.lru_cache(maxsize=256)
def _keyword_for(forward: Any) -> str | None:
    """``"cache"`` or ``"past_key_values"`` when ``forward`` names one of them (the newer name first), else ``None``."""
    try:
        parameters = inspect.signature(forward).parameters
    except (TypeError, ValueError):
        return None
    return next((name for name in ("cache", "past_key_values") if name in parameters), None)


def cache_keyword(model: Any) -> str:
    """The keyword under which ``model``'s forward takes its KV cache.

    A wrapper whose forward only passes ``**kwargs`` on is answered by the first module inside it that
    names the cache; with none, the older name (which every version still accepts).
    """
    modules = model.modules() if hasattr(model, "modules") else iter([model])
    for module in modules:
        keyword = _keyword_for(type(module).forward)
        if keyword is not None:
            return keyword
    return "past_key_values"


def new_cache(model: Any) -> Any:
    """An empty ``DynamicCache`` for ``model`` (built from its config where this transformers supports that)."""
    from transformers import DynamicCache

    if "config" in inspect.signature(DynamicCache.__init__).parameters:
        return DynamicCache(config=model.config)
    return DynamicCache()


def forward_with_cache(model: Any, input_ids: Any, cache: Any) -> Any:
    """Run ``model`` on ``input_ids`` extending ``cache`` in place; returns the model output (logits)."""
    return model(input_ids=input_ids, use_cache=True, **{cache_keyword(model): cache})
