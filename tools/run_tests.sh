#!/usr/bin/env bash
# Set up .venv (tools/setup_env.sh, seconds when done before) and run the
# whole test suite. Extra arguments go to pytest, e.g. -m "not slow".
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
exec .venv/bin/python -m pytest tests "$@"
