# CA-MKD (confidence-aware teacher weights) on deeplabv3_r18-d8_narrow_shapes.
# The reference's beta = 50; the feature term is on from the start (the
# shapes schedule is short).
_base_ = '../../_base_/distill/shapes_deeplabv3.py'

model = dict(
    weighting=dict(type='CAMKD', feature_form='connected'),
    feature_loss_weight=50.0)
