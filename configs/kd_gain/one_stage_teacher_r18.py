# KD-gain benchmark (tools/analysis/kd_gain.py), one-stage detection teacher
# 2: FCOS R18-FPN at half width (twice the student's), trained like
# teacher 1.
_base_ = './one_stage_teacher_r34.py'

model = dict(backbone=dict(depth=18))
