# MMKD (Zhang, Chen, Wang, ICME 2023): meta-learned per-sample teacher
# weights with a bilevel look-ahead.
#
# The paper's (its CIFAR reference code, Rorozhl/MMKD): the logit- and
# feature-weight networks (Linear D -> D/2, ReLU, Linear -> K, softmax), the
# Gram-matrix input of the feature network, Adam (lr 1e-3, weight decay 1e-4)
# on both, a meta step every 5 student steps: two virtual distillation steps
# and one on the student's own loss with the student's optimiser, then the
# student's own loss on the quiz batch, with roll-back; T = 4, alpha = 1,
# beta = 100 with its README's --convs connector (BottleneckConnector:
# 1x1-3x3-1x1 convs, in/2 wide, each followed by BN and ReLU).
# The quiz batch: the current batch (the reference's default), or its
# --hard_buffer with model.weighting.quiz='hard'. Ours: the feature network is
# sized from the config's per-rank batch size; for one-stage detection the
# networks read each image's mean class probabilities over its positive anchors
# (sigmoid per class). In the look-ahead mmdet's focal loss takes its torch
# form on CUDA too (mmcv's has no second derivative).
_base_ = '../_base_/distill/coco_retinanet_r18.py'

model = dict(
    weighting=dict(
        type='MMKD', batch_size={{_base_.train_dataloader.batch_size}}),
    temperature=4.0,
    logit_loss_weight=1.0,
    feature_loss_weight=100.0,
    connector=dict(type='BottleneckConnector'))
custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook')]
