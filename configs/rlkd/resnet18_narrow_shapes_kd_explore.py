# RLKD with the released code's entropy-ranked exploration, on shapes (CPU
# size): resnet18_narrow_shapes_kd.py in epochs (15 batches of 16 each).
# The reference's schedule (CIFAR: warm-up 20 epochs, PPO in every 20th,
# blending in epochs 40, 60, …), scaled down: T = 4 in epochs 1-2, PPO after
# every batch from epoch 3, and in epochs 4, 6 and 8 the 10 % of images the
# student has been surest of (entropy rank 80-90 %) are blended with the
# 10-20 % it has been least sure of, weight 1.0 → 0.7, keeping their labels.
# Ours: the scale, and the scores count epoch 1 (the reference's lose it,
# see EntropyRankedMixupHook); everything else as
# resnet18_narrow_shapes_kd.py.
_base_ = './resnet18_narrow_shapes_kd.py'

max_epochs = 8
model = dict(
    temperature=dict(
        by_epoch=True, warmup=3, rl_every=1,
        reward_stages=[dict(end=max_epochs, period=max_epochs, scale=10)]))
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='mtkd_mm.EntropyRankedMixupDataset',
        dataset={{_base_.train_dataloader.dataset}}))
train_cfg = dict(
    _delete_=True, type='EpochBasedTrainLoop', max_epochs=max_epochs,
    val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=15 *
         max_epochs, eta_min_ratio=0.05),
]
default_hooks = dict(checkpoint=dict(by_epoch=True, interval=max_epochs))
custom_hooks = [
    dict(type='mtkd_mm.LearnerUpdateHook'),
    dict(type='mtkd_mm.EntropyRankedMixupHook', start_epoch=2, every=2),
]
