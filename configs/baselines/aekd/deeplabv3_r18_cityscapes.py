# AEKD (min-norm gradient teacher weights) on the Cityscapes DeepLabV3 R18-D8
# (mmseg's deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024).
_base_ = '../../_base_/distill/cityscapes_deeplabv3_r18.py'

model = dict(weighting=dict(type='AEKD'))
