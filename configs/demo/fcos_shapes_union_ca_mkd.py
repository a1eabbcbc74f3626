# As fcos_shapes_union_aver.py, with CA-MKD weights (β = 5, as the
# KD-gain benchmark's detection).
_base_ = './fcos_shapes_union_aver.py'

model = dict(weighting=dict(type='CAMKD'))
