# DeepLabV3 R18-D8 (narrow) trained from scratch on the shapes dataset.
#   python tools/data/make_shapes.py --out data/shapes
#   python tools/train.py configs/shapes/deeplabv3_r18-d8_narrow_shapes.py
_base_ = [
    '../_base_/models/deeplabv3_r18-d8_narrow.py',
    '../_base_/datasets/shapes_segmentation.py',
    '../_base_/schedules/shapes_adamw_iters.py',
    'mmseg::_base_/default_runtime.py',
]
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=100),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
