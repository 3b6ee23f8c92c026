"""Remote models over the OpenAI chat completions API: a client for structured output, and a server.

``Client`` talks to any OpenAI-compatible server (retries, backoff, concurrency limit,
schema via ``response_format`` or the prompt, repair and re-asking through
:meth:`Client.parse`); ``Server`` / ``constrain serve`` exposes a local model with
constrained decoding to any OpenAI client.
"""
from .client import ChatReply, Client, RemoteError
from .protocol import request_fields
from .server import Server, add_serve_parser

__all__ = ["ChatReply", "Client", "RemoteError", "Server", "add_serve_parser", "request_fields"]
