# Faster R-CNN R18-FPN (ImageNet-pretrained backbone, 1x schedule) on COCO,
# distilled from the mmdet model-zoo Faster R-CNN R50, R101 and X101-64x4d
# (1x, box mAP 37.4 / 39.4 / 42.1). Method configs set model.weighting.
# The distillation terms are the distiller's defaults: AVER, T = 4, α = 1,
# FeatureMSE with β = 5 (MultiTeacherDistiller).
_base_ = '../../students/faster_rcnn_r18_coco.py'

zoo = 'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/'
teacher_r50 = dict(
    name='r50',
    config='mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    checkpoint=zoo + 'faster_rcnn_r50_fpn_1x_coco/'
        'faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth')
teacher_r101 = dict(
    name='r101',
    config='mmdet::faster_rcnn/faster-rcnn_r101_fpn_1x_coco.py',
    checkpoint=zoo + 'faster_rcnn_r101_fpn_1x_coco/'
        'faster_rcnn_r101_fpn_1x_coco_20200130-f513f705.pth')
teacher_x101 = dict(
    name='x101',
    config='mmdet::faster_rcnn/faster-rcnn_x101-64x4d_fpn_1x_coco.py',
    checkpoint=zoo + 'faster_rcnn_x101_64x4d_fpn_1x_coco/'
        'faster_rcnn_x101_64x4d_fpn_1x_coco_20200204-833ee192.pth')
model = dict(
    _delete_=True,
    type='mtkd_mm.MultiTeacherDistiller',
    student={{_base_.model}},
    teachers=[teacher_r50, teacher_r101, teacher_x101])
optim_wrapper = dict(constructor='mtkd_mm.DistillerOptimWrapperConstructor')
