# LookAheadTrust (ours), an ablation: softer trust, each trusted weight
# (1 - 0.3) * pi + 0.3 / K (an in-domain pi of 1 gives 0.8).
_base_ = './fcos_shapes_union_look_ahead_trust.py'

model = dict(weighting=dict(uniform_share=0.3))
