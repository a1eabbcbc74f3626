#!/usr/bin/env bash
# Multi-process testing, as mmdet's tools/dist_test.sh:
#   bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py options]
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
if ! [[ "$3" =~ ^[1-9][0-9]*$ ]]; then
  echo "dist_test.sh: error: NUM_PROCS must be a positive integer, got '$3'" \
       "(usage: bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py options])" >&2
  exit 2
fi
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
${PYTHON:-python} -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$(dirname "$0")/test.py" \
    "$CONFIG" \
    "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
