# LookAheadTrust (ours) with a third of both distillation terms, as
# faster-rcnn_shapes_union_aver_third.py: CA-MKD's scale, its own weights.
_base_ = './faster-rcnn_shapes_union_look_ahead_trust.py'

model = dict(logit_loss_weight=1.0 / 3, feature_loss_weight=5.0 / 3)
