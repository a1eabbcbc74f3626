# KD-gain benchmark (tools/analysis/kd_gain.py), classification student: a
# quarter-width ResNet-18 (128 channels) on a fixed budget: the first 120
# training images of data/kd_gain, 150 iterations of batch 16.
_base_ = '../shapes/resnet18_narrow_shapes.py'

data_root = 'data/kd_gain/'
model = dict(
    backbone=dict(stem_channels=16, base_channels=16),
    head=dict(in_channels=128))
train_dataloader = dict(
    dataset=dict(data_root=data_root, ann_file='cls_labels/train_student.txt'))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader

max_iters = 150
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=15),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=15, end=max_iters,
         eta_min_ratio=0.05),
]
default_hooks = dict(checkpoint=dict(interval=max_iters))
