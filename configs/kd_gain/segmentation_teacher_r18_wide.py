# KD-gain benchmark (tools/analysis/kd_gain.py), segmentation teacher 2: a
# wider DeepLabV3 R18-D8 (full-width backbone, 128-channel ASPP head)
# trained like teacher 1.
_base_ = './segmentation_teacher_r34.py'

model = dict(
    backbone=dict(depth=18, base_channels=64, stem_channels=64),
    decode_head=dict(in_channels=512, channels=128),
    auxiliary_head=dict(in_channels=256, channels=64))
