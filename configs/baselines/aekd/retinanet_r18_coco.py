# AEKD (min-norm gradient teacher weights) on the COCO RetinaNet R18-FPN
# (configs/students/retinanet_r18_coco.py).
_base_ = '../../_base_/distill/coco_retinanet_r18.py'

model = dict(weighting=dict(type='AEKD'))
