# Ablation of LookAheadTrust (ours): the policy reads the raw state (no log1p,
# no standardisation).
_base_ = './resnet18_shapes_union_look_ahead_trust.py'

model = dict(weighting=dict(normalise_state=False))
