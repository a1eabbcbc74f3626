# As resnet18_shapes_union_aver.py, with CA-MKD weights (reference β = 50).
_base_ = './resnet18_shapes_union_aver.py'

model = dict(
    weighting=dict(type='CAMKD', feature_form='connected'),
    feature_loss_weight=50.0)
