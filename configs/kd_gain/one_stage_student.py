# KD-gain benchmark (tools/analysis/kd_gain.py), one-stage detection student:
# FCOS with a quarter-width ResNet-18 on a fixed budget: the first 120
# training images of data/kd_gain, 100 iterations of batch 4.
_base_ = '../shapes/fcos_r18_fpn_narrow_shapes.py'

data_root = 'data/kd_gain/'
model = dict(
    backbone=dict(base_channels=16),
    neck=dict(in_channels=[16, 32, 64, 128]))
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/instances_train_student.json'))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator

max_iters = 100
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=10, end=max_iters,
         eta_min_ratio=0.05),
]
default_hooks = dict(checkpoint=dict(interval=max_iters))
