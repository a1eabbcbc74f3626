# RetinaNet R18-FPN on COCO (1x): mmdet's own R18 config (ImageNet-pretrained
# ResNet-18 backbone, box mAP 31.7 in the mmdet zoo). The student of the
# one-stage COCO configs.
_base_ = 'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py'
