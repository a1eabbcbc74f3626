#!/usr/bin/env bash
# The main job on a fresh machine: set up .venv, then the domain demo
# (tools/demo/domain_demo.py): two teachers trained on different shapes
# domains, a student on their union, distilled with AVER and with MTKD-RL
# from the same start; prints the measured table and plots the weights.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
exec .venv/bin/python tools/demo/domain_demo.py "$@"
