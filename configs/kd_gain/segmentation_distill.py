# KD-gain benchmark (tools/analysis/kd_gain.py), segmentation: the student of
# segmentation_student.py (same data, budget and schedule) distilled from the
# two teachers; the benchmark sets model.weighting per method and passes the
# cached teacher checkpoints.
_base_ = './segmentation_student.py'

work = 'work_dirs/kd_gain/segmentation/teachers/'
model = dict(
    _delete_=True,
    type='mtkd_mm.MultiTeacherDistiller',
    student={{_base_.model}},
    teachers=[
        dict(name='r34',
             config='mtkd_mm::kd_gain/segmentation_teacher_r34.py',
             checkpoint=work + 'r34.pth'),
        dict(name='r18',
             config='mtkd_mm::kd_gain/segmentation_teacher_r18.py',
             checkpoint=work + 'r18.pth'),
    ],
    weighting=dict(type='AVER'),
    temperature=4.0,
    logit_loss_weight=1.0,
    feature_loss=dict(type='FeatureMSE'),
    feature_loss_weight=5.0)
optim_wrapper = dict(constructor='mtkd_mm.DistillerOptimWrapperConstructor')
