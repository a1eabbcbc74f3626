# DeepLabV3 R18-D8 (512x1024, 80k) on Cityscapes, distilled from the mmseg
# model-zoo DeepLabV3 R101-D8 and PSPNet R101-D8 (80k, mIoU 80.2 / 79.8).
# Method configs set model.weighting.
# The distillation terms are the distiller's defaults: AVER, T = 4, α = 1,
# FeatureMSE with β = 5 (MultiTeacherDistiller).
_base_ = 'mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py'

zoo = 'https://download.openmmlab.com/mmsegmentation/v0.5/'
teacher_deeplabv3_r101 = dict(
    name='deeplabv3_r101',
    config='mmseg::deeplabv3/'
        'deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.py',
    checkpoint=zoo + 'deeplabv3/deeplabv3_r101-d8_512x1024_80k_'
        'cityscapes/deeplabv3_r101-d8_512x1024_80k_cityscapes_'
        '20200606_113503-9e428899.pth')
teacher_pspnet_r101 = dict(
    name='pspnet_r101',
    config='mmseg::pspnet/'
        'pspnet_r101-d8_4xb2-80k_cityscapes-512x1024.py',
    checkpoint=zoo + 'pspnet/pspnet_r101-d8_512x1024_80k_'
        'cityscapes/pspnet_r101-d8_512x1024_80k_cityscapes_'
        '20200606_112211-e1e1100f.pth')
model = dict(
    _delete_=True,
    type='mtkd_mm.MultiTeacherDistiller',
    student={{_base_.model}},
    teachers=[teacher_deeplabv3_r101, teacher_pspnet_r101])
optim_wrapper = dict(constructor='mtkd_mm.DistillerOptimWrapperConstructor')
