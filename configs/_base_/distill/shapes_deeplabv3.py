# Multi-teacher distillation on shapes: the narrow DeepLabV3 R18 student
# learns from two shapes-trained DeepLabV3 teachers. Method configs set
# model.weighting.
# Teacher checkpoints (paths below): python tools/train_shapes_teachers.py
# --tasks segmentation trains them (about 2 min on 2 CPU cores).
# The distillation terms are the distiller's defaults: AVER, T = 4, α = 1,
# FeatureMSE with β = 5 (MultiTeacherDistiller).
_base_ = '../../shapes/deeplabv3_r18-d8_narrow_shapes.py'

teacher_config = 'mtkd_mm::shapes/deeplabv3_r18-d8_narrow_shapes.py'
model = dict(
    _delete_=True,
    type='mtkd_mm.MultiTeacherDistiller',
    student={{_base_.model}},
    teachers=[
        dict(name='deeplab_a', config=teacher_config,
             checkpoint='work_dirs/shapes_teachers/deeplabv3_a.pth'),
        dict(name='deeplab_b', config=teacher_config,
             checkpoint='work_dirs/shapes_teachers/deeplabv3_b.pth'),
    ])
optim_wrapper = dict(constructor='mtkd_mm.DistillerOptimWrapperConstructor')
