# LookAheadTrust: OURS, not a published method
# (docs/methods.md#lookaheadtrust-ours; mtkd_mm/weightings/look_ahead_trust.py,
# configs/look_ahead_trust/README.md).
# A small policy scores each teacher from its normalised per-sample state and
# learns, every 10 iterations, to maximise the look-ahead credit: how much a
# step on that teacher's distillation loss lowers the sample's own CE.
# RetinaNet R18-FPN on COCO with the mmdet zoo RetinaNet teachers;
# "sample" = image, its points the positive anchors (sigmoid classes).
# The distillation terms are the base config's (T, α, β).
_base_ = '../_base_/distill/coco_retinanet_r18.py'

model = dict(weighting=dict(type='LookAheadTrust'))
custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook')]
