# KD-gain benchmark (tools/analysis/kd_gain.py), classification: the student
# of classification_student.py (same data, budget and schedule) distilled
# from the two teachers; the benchmark sets model.weighting per method and
# passes the cached teacher checkpoints.
_base_ = './classification_student.py'

work = 'work_dirs/kd_gain/classification/teachers/'
model = dict(
    _delete_=True,
    type='mtkd_mm.MultiTeacherDistiller',
    student={{_base_.model}},
    teachers=[
        dict(name='resnet34',
             config='mtkd_mm::kd_gain/classification_teacher_resnet34.py',
             checkpoint=work + 'resnet34.pth'),
        dict(name='resnet18_wide',
             config='mtkd_mm::kd_gain/classification_teacher_resnet18_wide.py',
             checkpoint=work + 'resnet18_wide.pth'),
    ],
    weighting=dict(type='AVER'),
    temperature=4.0,
    logit_loss_weight=1.0,
    feature_loss=dict(type='FeatureMSE'),
    feature_loss_weight=5.0)
optim_wrapper = dict(constructor='mtkd_mm.DistillerOptimWrapperConstructor')
