# LookAheadTrust (ours), an ablation: its weights on the feature term only;
# every teacher's logit term gets 1/K (as AVER).
_base_ = './faster-rcnn_shapes_union_look_ahead_trust.py'

model = dict(weighting=dict(trusted=('feature', )))
