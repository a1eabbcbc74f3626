# KD-gain benchmark (tools/analysis/kd_gain.py), classification teacher 2:
# a wider ResNet-18 (full width, 512 channels) trained like teacher 1.
_base_ = './classification_teacher_resnet34.py'

model = dict(
    backbone=dict(depth=18, stem_channels=64, base_channels=64),
    head=dict(in_channels=512))
