# LookAheadTrust (ours) with a third of the feature term (β = 5/3), as
# faster-rcnn_shapes_union_aver_feature_third.py.
_base_ = './faster-rcnn_shapes_union_look_ahead_trust.py'

model = dict(feature_loss_weight=5.0 / 3)
