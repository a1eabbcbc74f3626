# CA-MKD (confidence-aware teacher weights) on the ImageNet ResNet-18
# (mmpretrain's resnet18_8xb32_in1k).
# The reference's beta = 50 and no feature term in the first epoch
# (one ImageNet epoch at batch 256 = 5005 iterations).
_base_ = '../../_base_/distill/imagenet_resnet18.py'

model = dict(
    weighting=dict(
        type='CAMKD', feature_form='connected', feature_off_iters=5005),
    feature_loss_weight=50.0)
