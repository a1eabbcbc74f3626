# EBKD (entropy-based teacher weights) on the ImageNet ResNet-18
# (mmpretrain's resnet18_8xb32_in1k).
_base_ = '../../_base_/distill/imagenet_resnet18.py'

model = dict(weighting=dict(type='EBKD'))
