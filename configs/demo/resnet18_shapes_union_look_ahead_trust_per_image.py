# Ablation of LookAheadTrust (ours): the policy learns from each image's own
# look-ahead credit, not from its neighbourhood's (the default before
# credit_neighbourhood).
_base_ = './resnet18_shapes_union_look_ahead_trust.py'

model = dict(weighting=dict(credit_neighbourhood=0.0))
