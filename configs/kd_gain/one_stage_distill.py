# KD-gain benchmark (tools/analysis/kd_gain.py), one-stage detection: the
# student of one_stage_student.py (same data, budget and schedule) distilled
# from the two FCOS teachers; the benchmark sets model.weighting per method
# and passes the cached teacher checkpoints. The points are the student's
# positive points, the logit KL the binary one per class.
# T = 1, as the two-stage detection task (tuned there, not here).
_base_ = './one_stage_student.py'

work = 'work_dirs/kd_gain/one_stage_detection/teachers/'
model = dict(
    _delete_=True,
    type='mtkd_mm.MultiTeacherDistiller',
    student={{_base_.model}},
    teachers=[
        dict(name='r34', config='mtkd_mm::kd_gain/one_stage_teacher_r34.py',
             checkpoint=work + 'r34.pth'),
        dict(name='r18',
             config='mtkd_mm::kd_gain/one_stage_teacher_r18.py',
             checkpoint=work + 'r18.pth'),
    ],
    weighting=dict(type='AVER'),
    temperature=1.0,
    logit_loss_weight=1.0,
    feature_loss=dict(type='FeatureMSE'),
    feature_loss_weight=5.0)
optim_wrapper = dict(constructor='mtkd_mm.DistillerOptimWrapperConstructor')
