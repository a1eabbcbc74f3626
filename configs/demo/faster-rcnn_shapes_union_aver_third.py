# AVER with a third of both distillation terms (logit weight 1/3, β = 5/3),
# a diagnosis: CA-MKD divides its weighted teacher losses by K
# (teacher_reduction='mean'), so its terms have a third of AVER's scale.
# Does CA-MKD win on this benchmark by its weights or by its scale?
_base_ = './faster-rcnn_shapes_union_aver.py'

model = dict(logit_loss_weight=1.0 / 3, feature_loss_weight=5.0 / 3)
