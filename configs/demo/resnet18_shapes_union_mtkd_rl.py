# As resnet18_shapes_union_aver.py, with MTKD-RL weights: 20 warm-up
# iterations, an agent update every 20 iterations.
_base_ = './resnet18_shapes_union_aver.py'

model = dict(
    weighting=dict(type='MTKDRL', warmup_iters=20, update_interval=20))
custom_hooks = [*_base_.demo_hooks, dict(type='mtkd_mm.LearnerUpdateHook')]
