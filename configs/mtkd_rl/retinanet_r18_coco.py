# MTKD-RL (Yang et al., AAAI 2025) for RetinaNet R18-FPN on COCO, with the
# mmdet model-zoo RetinaNet R50, R101 and X101-64x4d as teachers.
#
# The paper's (its CIFAR/ImageNet reference code): the agent (Linear 128, two
# softmax heads), the state [cos, KL, CE, teacher embedding, teacher logits],
# fusion w = (a + c + d) / 3 with the CA-MKD and divergence-aware weights,
# reward -(CE + Σ w KL + β Σ w F) standardised and clamped to [0, 1], the
# surrogate update (SGD lr 0.1) of the fused weights after every 1000th batch
# of an epoch and at its end, T = 4, α = 1, β = 5, weights 1 for every
# teacher during the first epoch (its experience is stored and learnt from).
# Ours: "sample" = image; the points are the student's positive anchors,
# which every teacher's head classifies from its own features; KL, CE and
# the state's class probabilities are the binary ones of a sigmoid per class
# (the heads' own), KL/CE means over an image's positives; embeddings the
# pooled FPN levels, the feature loss the mean over FPN levels.
_base_ = '../_base_/distill/coco_retinanet_r18.py'

model = dict(
    weighting=dict(type='MTKDRL', warmup_epochs=1, update_interval=1000),
    temperature=4.0,
    logit_loss_weight=1.0,
    feature_loss_weight=5.0)
custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook')]
