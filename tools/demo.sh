#!/usr/bin/env bash
# The main job on a fresh machine: set up .venv, then the domain demo
# (tools/demo/domain_demo.py): three teachers trained on different shapes
# domains, a student with labels for a few images of their union, plain and
# distilled with AVER, CA-MKD, MTKD-RL and LookAheadTrust (ours) from the
# same start, on seeds 0 and 1; prints the measured tables (each student's
# gain over the plain one per seed, LookAheadTrust's margin over the best of
# the others per seed, the weight each method gives each teacher per domain)
# and plots each method's per-domain weights over the iterations.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
exec .venv/bin/python tools/demo/domain_demo.py "$@"
