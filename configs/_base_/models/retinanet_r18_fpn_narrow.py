# A CPU-sized RetinaNet: ResNet-18 at half width, a 64-channel FPN, anchors
# halved for 128 px images (octave_base_scale 2: 16-25 px at stride 8),
# trained from scratch (no model-zoo download). num_classes is the shapes
# dataset's. Ours: GroupNorm in the head; without it, from scratch, the head
# did not learn in the 200-iteration shapes schedule (bbox mAP 0.000, with
# GN 0.169).
_base_ = 'mmdet::_base_/models/retinanet_r50_fpn.py'

model = dict(
    backbone=dict(
        depth=18,
        base_channels=32,
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=None),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=64),
    bbox_head=dict(
        num_classes=4,
        in_channels=64,
        feat_channels=64,
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        anchor_generator=dict(octave_base_scale=2)),
    test_cfg=dict(nms_pre=600, max_per_img=50))
