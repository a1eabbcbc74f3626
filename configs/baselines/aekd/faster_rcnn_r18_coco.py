# AEKD (min-norm gradient teacher weights) on the COCO Faster R-CNN R18-FPN
# (configs/students/faster_rcnn_r18_coco.py).
_base_ = '../../_base_/distill/coco_faster-rcnn_r18.py'

model = dict(weighting=dict(type='AEKD'))
