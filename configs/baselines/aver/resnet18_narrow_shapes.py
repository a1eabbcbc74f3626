# AVER (equal teacher weights) on resnet18_narrow_shapes.
_base_ = '../../_base_/distill/shapes_resnet18.py'

model = dict(weighting=dict(type='AVER'))
