# LookAheadTrust: OURS, not a published method
# (docs/methods.md#lookaheadtrust-ours; mtkd_mm/weightings/look_ahead_trust.py,
# configs/look_ahead_trust/README.md).
# A small policy scores each teacher from its normalised per-sample state and
# learns, every 10 iterations, to maximise the look-ahead credit: how much a
# step on that teacher's distillation loss lowers the sample's own CE.
# FCOS R18-FPN on the shapes data (CPU size); "sample" = image, its
# points the positive locations (sigmoid classes).
# The distillation terms are the base config's (T, α, β).
_base_ = '../_base_/distill/shapes_fcos.py'

model = dict(weighting=dict(type='LookAheadTrust'))
custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook')]
