# Ablation of LookAheadTrust (ours): the policy trained by MTKD-RL's released
# surrogate update, on the look-ahead reward.
_base_ = './resnet18_shapes_union_look_ahead_trust.py'

model = dict(weighting=dict(policy='surrogate', credit_neighbourhood=0.0))
