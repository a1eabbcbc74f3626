#!/usr/bin/env bash
# The main job on a fresh machine: set up .venv, generate the shapes data,
# train the narrow Faster R-CNN on it and print its COCO bbox mAP.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
PY=.venv/bin/python
DATA=data/shapes
WORK=work_dirs/demo_faster_rcnn
if [ ! -f "$DATA/meta.json" ]; then
  echo "[demo] generating the shapes dataset in $DATA"
  $PY tools/data/make_shapes.py --out "$DATA" --num-train 240 --num-val 60 --img-size 128 --seed 0
fi
echo "[demo] training configs/shapes/faster-rcnn_r18_fpn_narrow_shapes.py (logs in $WORK)"
$PY tools/train.py configs/shapes/faster-rcnn_r18_fpn_narrow_shapes.py --work-dir "$WORK"
$PY tools/analysis/print_metric.py "$WORK" coco/bbox_mAP
