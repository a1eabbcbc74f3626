# CA-MKD (confidence-aware teacher weights) on fcos_r18_fpn_narrow_shapes.
# The reference's beta = 50; the feature term is on from the start (the
# shapes schedule is short).
_base_ = '../../_base_/distill/shapes_fcos.py'

model = dict(
    weighting=dict(type='CAMKD', feature_form='connected'),
    feature_loss_weight=50.0)
