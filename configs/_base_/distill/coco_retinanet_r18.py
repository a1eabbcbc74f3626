# RetinaNet R18-FPN (ImageNet-pretrained backbone, 1x schedule) on COCO,
# distilled from the mmdet model-zoo RetinaNet R50, R101 and X101-64x4d
# (1x, box mAP 36.5 / 38.5 / 41.0). All four share mmdet's RetinaNet anchors
# (9 per location, strides 8-128), so every teacher's head classifies the
# student's positive anchors. Method configs set model.weighting.
# The distillation terms are the distiller's defaults: AVER, T = 4, α = 1,
# FeatureMSE with β = 5 (MultiTeacherDistiller); the logit KL is the binary
# one per class (the heads' sigmoid).
_base_ = '../../students/retinanet_r18_coco.py'

zoo = 'https://download.openmmlab.com/mmdetection/v2.0/retinanet/'
model = dict(
    _delete_=True,
    type='mtkd_mm.MultiTeacherDistiller',
    student={{_base_.model}},
    teachers=[
        dict(name='r50',
             config='mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
             checkpoint=zoo + 'retinanet_r50_fpn_1x_coco/'
             'retinanet_r50_fpn_1x_coco_20200130-c2398f9e.pth'),
        dict(name='r101',
             config='mmdet::retinanet/retinanet_r101_fpn_1x_coco.py',
             checkpoint=zoo + 'retinanet_r101_fpn_1x_coco/'
             'retinanet_r101_fpn_1x_coco_20200130-7a93545f.pth'),
        dict(name='x101',
             config='mmdet::retinanet/retinanet_x101-64x4d_fpn_1x_coco.py',
             checkpoint=zoo + 'retinanet_x101_64x4d_fpn_1x_coco/'
             'retinanet_x101_64x4d_fpn_1x_coco_20200130-366f5af1.pth'),
    ])
optim_wrapper = dict(constructor='mtkd_mm.DistillerOptimWrapperConstructor')
