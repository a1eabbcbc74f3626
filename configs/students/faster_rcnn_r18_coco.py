# Faster R-CNN R18-FPN on COCO (1x): mmdet's R50 config with an
# ImageNet-pretrained ResNet-18 backbone. The student of the COCO configs.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        depth=18,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=[64, 128, 256, 512]))
