# AVER with a third of the feature term (β = 5/3), a diagnosis: CA-MKD's
# mean over the teachers gives its terms a third of AVER's scale, and on
# this benchmark the feature term is most of the loss.
_base_ = './faster-rcnn_shapes_union_aver.py'

model = dict(feature_loss_weight=5.0 / 3)
