# KD-gain benchmark (tools/analysis/kd_gain.py), one-stage detection
# teacher 1: a deeper FCOS R34-FPN (half width) trained on all 960 training
# images of data/kd_gain for 400 iterations (the student: 120 images, 100).
_base_ = '../shapes/fcos_r18_fpn_narrow_shapes.py'

data_root = 'data/kd_gain/'
model = dict(backbone=dict(depth=34))
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator

max_iters = 400
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=max_iters,
         eta_min_ratio=0.05),
]
default_hooks = dict(checkpoint=dict(interval=max_iters))
