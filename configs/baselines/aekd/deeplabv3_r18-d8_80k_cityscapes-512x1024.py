# AEKD (min-norm gradient teacher weights) on deeplabv3_r18-d8_80k_cityscapes-512x1024.
_base_ = '../../_base_/distill/cityscapes_deeplabv3_r18.py'

model = dict(weighting=dict(type='AEKD'))
