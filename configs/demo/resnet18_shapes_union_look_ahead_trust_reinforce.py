# Ablation of LookAheadTrust (ours): weights sampled from a Dirichlet and the
# policy trained by REINFORCE on the look-ahead reward.
_base_ = './resnet18_shapes_union_look_ahead_trust.py'

model = dict(weighting=dict(policy='reinforce', credit_neighbourhood=0.0))
