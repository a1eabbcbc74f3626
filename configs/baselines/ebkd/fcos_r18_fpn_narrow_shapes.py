# EBKD (entropy-based teacher weights) on fcos_r18_fpn_narrow_shapes.
_base_ = '../../_base_/distill/shapes_fcos.py'

model = dict(weighting=dict(type='EBKD'))
