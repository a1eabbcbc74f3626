# KD-gain benchmark (tools/analysis/kd_gain.py), detection teacher 2: a
# wider Faster R-CNN R18-FPN (full-width backbone, 128-channel FPN) trained
# like teacher 1.
_base_ = './detection_teacher_r34.py'

model = dict(
    backbone=dict(depth=18, base_channels=64),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=128),
    rpn_head=dict(in_channels=128, feat_channels=128),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=128),
        bbox_head=dict(in_channels=128)))
