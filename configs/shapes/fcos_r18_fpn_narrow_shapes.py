# FCOS R18-FPN (narrow) trained from scratch on the shapes dataset.
#   python tools/data/make_shapes.py --out data/shapes
#   python tools/train.py configs/shapes/fcos_r18_fpn_narrow_shapes.py
_base_ = [
    '../_base_/models/fcos_r18_fpn_narrow.py',
    '../_base_/datasets/shapes_detection.py',
    '../_base_/schedules/shapes_adamw_iters.py',
    'mmdet::_base_/default_runtime.py',
]
train_dataloader = dict(sampler=dict(type='InfiniteSampler'))

default_hooks = dict(
    logger=dict(interval=20, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=100))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
