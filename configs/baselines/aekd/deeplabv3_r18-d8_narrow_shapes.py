# AEKD (min-norm gradient teacher weights) on deeplabv3_r18-d8_narrow_shapes.
_base_ = '../../_base_/distill/shapes_deeplabv3.py'

model = dict(weighting=dict(type='AEKD'))
