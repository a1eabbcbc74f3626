# Multi-teacher distillation on shapes for one-stage detectors: the narrow
# FCOS R18 student learns from two shapes-trained FCOS teachers (same
# points, so their heads classify the student's positive points).
# Method configs (configs/baselines/<method>/, configs/mtkd_rl/) set
# model.weighting.
# Teacher checkpoints (paths below): python tools/train_shapes_teachers.py
# --tasks one_stage_detection trains them.
# The distillation terms are the distiller's defaults: AVER, T = 4, α = 1,
# FeatureMSE with β = 5 (MultiTeacherDistiller); the logit KL is the binary
# one per class (the heads' sigmoid).
_base_ = '../../shapes/fcos_r18_fpn_narrow_shapes.py'

teacher_config = 'mtkd_mm::shapes/fcos_r18_fpn_narrow_shapes.py'
model = dict(
    _delete_=True,
    type='mtkd_mm.MultiTeacherDistiller',
    student={{_base_.model}},
    teachers=[
        dict(name='fcos_a', config=teacher_config,
             checkpoint='work_dirs/shapes_teachers/fcos_a.pth'),
        dict(name='fcos_b', config=teacher_config,
             checkpoint='work_dirs/shapes_teachers/fcos_b.pth'),
    ])
optim_wrapper = dict(constructor='mtkd_mm.DistillerOptimWrapperConstructor')
