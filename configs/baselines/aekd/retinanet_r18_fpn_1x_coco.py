# AEKD (min-norm gradient teacher weights) on retinanet_r18_fpn_1x_coco.
_base_ = '../../_base_/distill/coco_retinanet_r18.py'

model = dict(weighting=dict(type='AEKD'))
