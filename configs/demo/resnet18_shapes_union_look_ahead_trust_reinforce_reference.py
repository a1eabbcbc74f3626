# Ablation of LookAheadTrust (ours): REINFORCE on MTKD-RL's reward
# −(CE_s + Σ w·KL + β Σ w·F) instead of the look-ahead credit.
_base_ = './resnet18_shapes_union_look_ahead_trust.py'

model = dict(
    weighting=dict(
        policy='reinforce', reward='reference', credit_neighbourhood=0.0))
