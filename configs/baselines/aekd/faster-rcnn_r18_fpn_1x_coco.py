# AEKD (min-norm gradient teacher weights) on faster-rcnn_r18_fpn_1x_coco.
_base_ = '../../_base_/distill/coco_faster-rcnn_r18.py'

model = dict(weighting=dict(type='AEKD'))
