# LookAheadTrust (ours), an ablation: its weights on the logit term only;
# every teacher's feature term gets 1/K (as AVER).
_base_ = './deeplabv3_shapes_union_look_ahead_trust.py'

model = dict(weighting=dict(trusted=('logit', )))
