"""Generation with transformers models: logits processing, the decoding loop, built-in models."""
from .api import Generation, StreamEvent, generate, stream
from .describe import describe
from .logits import apply_token_bitmask_
from .models import DEFAULT_MODEL, load_model, load_tokenizer

__all__ = ["Generation", "StreamEvent", "generate", "stream", "describe", "apply_token_bitmask_", "DEFAULT_MODEL", "load_model", "load_tokenizer"]
