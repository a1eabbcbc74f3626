"""A teacher of another detector family (RetinaNet for a Faster R-CNN
student) gives feature knowledge only: it gets a feature weight and no logit
weight, and the loss step runs."""
from mmdet.testing import demo_mm_inputs

from tests.conftest import REPO
from tests.test_distill.helpers import (build_model, load_cfg,
                                        save_random_teacher)

DET_DISTILL = REPO / 'configs' / 'baselines' / 'aver' / \
    'faster-rcnn_r18_fpn_narrow_shapes.py'
DET_STUDENT = REPO / 'configs' / 'shapes' / \
    'faster-rcnn_r18_fpn_narrow_shapes.py'

RETINANET = dict(
    _scope_='mmdet',
    type='RetinaNet',
    data_preprocessor=dict(
        type='DetDataPreprocessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_size_divisor=32),
    backbone=dict(type='ResNet', depth=18, base_channels=32, init_cfg=None),
    neck=dict(type='FPN', in_channels=[32, 64, 128, 256], out_channels=64,
              start_level=0, num_outs=5),
    bbox_head=dict(
        type='RetinaHead', num_classes=4, in_channels=64, feat_channels=64,
        anchor_generator=dict(
            type='AnchorGenerator', octave_base_scale=4,
            scales_per_octave=3, ratios=[0.5, 1.0, 2.0],
            strides=[4, 8, 16, 32, 64]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder'),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True),
        loss_bbox=dict(type='L1Loss')),
    test_cfg=dict(nms=dict(type='nms', iou_threshold=0.5)))


def test_one_stage_teacher_gives_features_only(tmp_path):
    frcnn = save_random_teacher(DET_STUDENT, tmp_path / 'frcnn.pth')
    cfg = load_cfg(DET_DISTILL,
                   **{'model.teachers.0.checkpoint': str(frcnn),
                      'model.teachers.1.checkpoint': None,
                      'model.teachers.1.name': 'retina'})
    cfg.model.teachers[1].config = RETINANET
    model = build_model(cfg)
    assert model.logit_teachers == [0]
    assert model.pool_info.logit_dim == 5  # 4 classes + background
    model.train()
    batch = demo_mm_inputs(2, (3, 128, 128), num_items=[3, 2],
                           num_classes=4)
    losses = model(**model.data_preprocessor(batch, True), mode='loss')
    assert 'distill.w_logit.frcnn_a' in losses
    assert 'distill.w_logit.retina' not in losses
    assert losses['distill.w_logit.frcnn_a'] == 1.0
    assert losses['distill.w_feature.retina'] == 0.5
    total, _ = model.parse_losses(losses)
    total.backward()
    assert model.connectors['retina'][0].layers[0].weight.grad is not None
    assert all(p.grad is None for p in model.teachers.parameters())
