# AEKD (min-norm gradient teacher weights) on faster-rcnn_r18_fpn_narrow_shapes.
_base_ = '../../_base_/distill/shapes_faster-rcnn.py'

model = dict(weighting=dict(type='AEKD'))
