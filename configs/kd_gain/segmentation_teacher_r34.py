# KD-gain benchmark (tools/analysis/kd_gain.py), segmentation teacher 1: a
# deeper DeepLabV3 R34-D8 (half width) trained on all 960 training images
# of data/kd_gain_shape_only for 1,000 iterations (the student: 120 images,
# 400): learning shapes without colour takes longer (76.5 mIoU after 500
# iterations, 87.0 after 1,000 on a dataset made the same way).
_base_ = '../shapes/deeplabv3_r18-d8_narrow_shapes.py'

data_root = 'data/kd_gain_shape_only/'
model = dict(backbone=dict(depth=34))
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader

max_iters = 1000
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=max_iters,
         eta_min_ratio=0.05),
]
default_hooks = dict(checkpoint=dict(interval=max_iters))
