# KD-gain benchmark (tools/analysis/kd_gain.py), detection teacher 2: Faster
# R-CNN R18-FPN at half width (twice the student's), trained like teacher 1.
_base_ = './detection_teacher_r34.py'

model = dict(backbone=dict(depth=18))
