# KD-gain benchmark (tools/analysis/kd_gain.py), segmentation teacher 2:
# DeepLabV3 R18-D8 at half width (twice the student's), trained like
# teacher 1.
_base_ = './segmentation_teacher_r34.py'

model = dict(backbone=dict(depth=18))
