# MTKD-RL on the shapes data (CPU size), one-stage: the reference agent and
# fusion, a warm-up of 20 iterations and an agent update every 20
# iterations (the 200-iteration schedule is short).
_base_ = '../_base_/distill/shapes_fcos.py'

model = dict(
    weighting=dict(type='MTKDRL', warmup_iters=20, update_interval=20))
custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook')]
