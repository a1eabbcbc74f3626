#!/usr/bin/env bash
# Create .venv/ in the repository root with the tested set of
# requirements/cpu.txt, mmcv built from source with its ops, and mtkd_mm
# installed in editable mode with its test extras.
#
# On a machine with an NVIDIA GPU and nvcc, mmcv is built with its CUDA ops
# for the visible GPUs' architectures (TORCH_CUDA_ARCH_LIST from nvidia-smi,
# MAX_JOBS from the cores); MTKD_MM_CPU_ONLY=1 skips that.
#
# Idempotent: a second run checks a stamp and the imports and exits in seconds.
# Usage: bash tools/setup_env.sh      (PYTHON=python3.11 to pick the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
STAMP="$VENV/.mtkd_mm-setup"

step() { CURRENT_STEP="$1"; echo "[setup_env] $(date +%H:%M:%S) $1"; }
trap 'echo "[setup_env] FAILED at step: ${CURRENT_STEP:-start}" >&2' ERR

# The machine's pip config points at a local CPU-only torch wheel beside which
# PyPI's torchvision cannot load; --isolated ignores that config (STACK.md).
PIP=("$PY" -m pip --isolated --disable-pip-version-check)
[ -f /etc/ssl/certs/ca-certificates.crt ] && PIP+=(--cert /etc/ssl/certs/ca-certificates.crt)
pin() { grep -E "^$1([=<>]|$)" requirements/cpu.txt; }

CUDA_ARCHS=""
if [ "${MTKD_MM_CPU_ONLY:-0}" != 1 ] && command -v nvcc >/dev/null &&
   archs=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null) &&
   [ -n "$archs" ]; then
  CUDA_ARCHS=$(echo "$archs" | sort -u | paste -sd';' -)  # e.g. 9.0 or 8.0;8.6
  echo "[setup_env] GPU machine: mmcv's CUDA ops for TORCH_CUDA_ARCH_LIST=$CUDA_ARCHS"
fi
want=$( (cat tools/setup_env.sh requirements/*.txt setup.py; echo "$CUDA_ARCHS") | sha256sum | cut -d' ' -f1)
check_imports() {
  "$PY" -c 'import torch, torchvision.ops, mmcv.ops, mmdet, mmseg, mmpretrain, mtkd_mm
print("torch", torch.__version__, "mmcv", mmcv.__version__, "(ops for CUDA",
      mmcv.ops.get_compiling_cuda_version() + ")", "mmdet", mmdet.__version__,
      "mmseg", mmseg.__version__, "mmpretrain", mmpretrain.__version__, "mtkd_mm", mtkd_mm.__version__)'
}
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && versions=$(check_imports 2>/dev/null); then
  echo "[setup_env] .venv is up to date: $versions"
  exit 0
fi

step "create virtualenv $VENV"
[ -x "$PY" ] || "${PYTHON:-python3}" -m venv "$VENV"

step "install build tools ($(pin setuptools))"
"${PIP[@]}" install -q "$(pin setuptools)" wheel

# pip's HTTP cache does not keep these 1.7 GB here: a wheelhouse does.
WHEELHOUSE=${MTKD_MM_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/mtkd_mm/wheels}
step "fetch $(pin torch) $(pin torchvision) into $WHEELHOUSE (about 2 min, 1.7 GB the first time)"
"${PIP[@]}" download -q -d "$WHEELHOUSE" "$(pin torch)" "$(pin torchvision)"
step "install $(pin torch) $(pin torchvision) from $WHEELHOUSE"
"${PIP[@]}" install -q --no-index --find-links "$WHEELHOUSE" "$(pin torch)" "$(pin torchvision)"
"$PY" -c 'import torchvision.ops'  # fails if torchvision was built for another torch

# Which mmcv ops are wanted: "not available" (CPU) or torch's CUDA version.
if [ -n "$CUDA_ARCHS" ]; then
  ops=$("$PY" -c 'import torch; print(torch.version.cuda)')
  nvcc_cuda=$(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')
  if [ "${ops%%.*}" != "${nvcc_cuda%%.*}" ]; then
    echo "[setup_env] error: torch was built for CUDA $ops, nvcc is CUDA $nvcc_cuda;" \
         "install the torch build for CUDA $nvcc_cuda (https://pytorch.org) or put a" \
         "CUDA $ops nvcc first on PATH; MTKD_MM_CPU_ONLY=1 builds the CPU ops only" >&2
    exit 2
  fi
else
  ops="not available"
fi
if "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '2.1.0'
assert mmcv.ops.get_compiling_cuda_version() == '$ops'" 2>/dev/null; then
  step "$(pin mmcv) with ops (CUDA: $ops) already installed"
elif [ -n "$CUDA_ARCHS" ]; then
  # pip's wheel cache may hold a CPU build of the same version: not used here.
  step "build $(pin mmcv) with CUDA $ops ops for $CUDA_ARCHS (about 5 min on 16 cores)"
  MMCV_WITH_OPS=1 FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST="$CUDA_ARCHS" \
    MAX_JOBS=${MAX_JOBS:-$(nproc)} "${PIP[@]}" install --no-cache-dir \
    --force-reinstall --no-deps --no-build-isolation "$(pin mmcv)"
  "$PY" -c "import mmcv.ops; assert mmcv.ops.get_compiling_cuda_version() == '$ops'"
else
  step "install $(pin mmcv) with ops: pip's cached wheel, or a build against this torch (about 20 min on 2 cores)"
  MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-2} "${PIP[@]}" install --no-build-isolation "$(pin mmcv)"
  "$PY" -c 'import mmcv.ops'
fi

step "install mmengine, mmdet, mmsegmentation, mmpretrain, $(pin numpy), $(pin opencv-python)"
"${PIP[@]}" install -q "$(pin mmengine)" "$(pin mmdet)" "$(pin mmsegmentation)" \
  "$(pin mmpretrain)" "$(pin ftfy)" "$(pin regex)" "$(pin torch)" "$(pin mmcv)" \
  "$(pin numpy)" "$(pin opencv-python)"

step "install mtkd_mm (editable, with test extras)"
"${PIP[@]}" install -q --no-build-isolation -e ".[tests]"

step "check imports"
versions=$(check_imports)
echo "$want" > "$STAMP"
echo "[setup_env] done: $versions"
