# As deeplabv3_shapes_union_aver.py, with CA-MKD weights (β = 5, as the
# KD-gain benchmark's segmentation).
_base_ = './deeplabv3_shapes_union_aver.py'

model = dict(weighting=dict(type='CAMKD'))
