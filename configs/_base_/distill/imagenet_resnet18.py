# ResNet-18 on ImageNet (8 x 32 batch, 100 epochs), distilled from the
# mmpretrain model-zoo ResNet-50 and ResNet-101 (top-1 76.55 / 77.97).
# Method configs set model.weighting.
# The distillation terms are the distiller's defaults: AVER, T = 4, α = 1,
# FeatureMSE with β = 5 (MultiTeacherDistiller).
_base_ = 'mmpretrain::resnet/resnet18_8xb32_in1k.py'

zoo = 'https://download.openmmlab.com/mmclassification/v0/resnet/'
teacher_resnet50 = dict(
    name='resnet50',
    config='mmpretrain::resnet/resnet50_8xb32_in1k.py',
    checkpoint=zoo + 'resnet50_8xb32_in1k_20210831-ea4938fc.pth')
teacher_resnet101 = dict(
    name='resnet101',
    config='mmpretrain::resnet/resnet101_8xb32_in1k.py',
    checkpoint=zoo + 'resnet101_8xb32_in1k_20210831-539c63f8.pth')
model = dict(
    _delete_=True,
    type='mtkd_mm.MultiTeacherDistiller',
    student={{_base_.model}},
    teachers=[teacher_resnet50, teacher_resnet101])
optim_wrapper = dict(constructor='mtkd_mm.DistillerOptimWrapperConstructor')
