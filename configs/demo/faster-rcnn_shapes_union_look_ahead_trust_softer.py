# LookAheadTrust (ours), an ablation: much softer trust, each trusted weight
# (1 - 0.6) * pi + 0.6 / K (an in-domain pi of 1 gives 0.6, near CA-MKD's
# 0.44-0.48 on this benchmark).
_base_ = './faster-rcnn_shapes_union_look_ahead_trust.py'

model = dict(weighting=dict(uniform_share=0.6))
