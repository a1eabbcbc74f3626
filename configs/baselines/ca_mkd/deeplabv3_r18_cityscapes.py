# CA-MKD (confidence-aware teacher weights) on the Cityscapes DeepLabV3 R18-D8
# (mmseg's deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024).
# The reference's beta = 50 and no feature term in the first epoch
# (one Cityscapes epoch at batch 8 = 372 iterations).
_base_ = '../../_base_/distill/cityscapes_deeplabv3_r18.py'

model = dict(
    weighting=dict(
        type='CAMKD', feature_form='connected', feature_off_iters=372),
    feature_loss_weight=50.0)
