# CA-MKD (confidence-aware teacher weights) on the COCO RetinaNet R18-FPN
# (configs/students/retinanet_r18_coco.py).
# The reference's beta = 50 and no feature term in the first epoch
# (one COCO epoch at batch 16 = 7330 iterations).
_base_ = '../../_base_/distill/coco_retinanet_r18.py'

model = dict(
    weighting=dict(
        type='CAMKD', feature_form='connected', feature_off_iters=7330),
    feature_loss_weight=50.0)
