#!/usr/bin/env bash
# Multi-process training, as mmdet's tools/dist_train.sh:
#   bash tools/dist_train.sh CONFIG NUM_PROCS [train.py options]
# NNODES, NODE_RANK, PORT and MASTER_ADDR select the node layout. Without
# CUDA the processes use the gloo backend on the CPU.
CONFIG=$1
GPUS=$2
if ! [[ "$2" =~ ^[1-9][0-9]*$ ]]; then
  echo "dist_train.sh: error: NUM_PROCS must be a positive integer, got '$2'" \
       "(usage: bash tools/dist_train.sh CONFIG NUM_PROCS [train.py options])" >&2
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
    "$(dirname "$0")/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
