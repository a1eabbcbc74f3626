# CA-MKD (confidence-aware teacher weights) on the COCO Faster R-CNN R18-FPN
# (configs/students/faster_rcnn_r18_coco.py).
# The reference's beta = 50 and no feature term in the first epoch
# (one COCO epoch at batch 16 = 7330 iterations).
_base_ = '../../_base_/distill/coco_faster-rcnn_r18.py'

model = dict(
    weighting=dict(
        type='CAMKD', feature_form='connected', feature_off_iters=7330),
    feature_loss_weight=50.0)
