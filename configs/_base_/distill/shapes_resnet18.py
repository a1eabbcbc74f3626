# Multi-teacher distillation on shapes: the narrow ResNet-18 classifier
# learns from two shapes-trained ResNet-18 teachers. Method configs set
# model.weighting.
# Teacher checkpoints (paths below): python tools/train_shapes_teachers.py
# --tasks classification trains them (about 1.5 min on 2 CPU cores).
# The distillation terms are the distiller's defaults: AVER, T = 4, α = 1,
# FeatureMSE with β = 5 (MultiTeacherDistiller).
_base_ = '../../shapes/resnet18_narrow_shapes.py'

teacher_config = 'mtkd_mm::shapes/resnet18_narrow_shapes.py'
model = dict(
    _delete_=True,
    type='mtkd_mm.MultiTeacherDistiller',
    student={{_base_.model}},
    teachers=[
        dict(name='resnet_a', config=teacher_config,
             checkpoint='work_dirs/shapes_teachers/resnet18_a.pth'),
        dict(name='resnet_b', config=teacher_config,
             checkpoint='work_dirs/shapes_teachers/resnet18_b.pth'),
    ])
optim_wrapper = dict(constructor='mtkd_mm.DistillerOptimWrapperConstructor')
