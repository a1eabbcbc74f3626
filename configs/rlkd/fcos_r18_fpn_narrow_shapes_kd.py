# RLKD (Zhang et al., arXiv 2407.00115): single-teacher KD of the narrow
# FCOS with a temperature per positive prior from a PPO agent (ours: the
# state's top-1 and margin are those of the prior's per-class sigmoids).
# On the shapes data (CPU size). The paper's: agent, state, T = 10·sigmoid
# (μ + εσ), Σ T²·KL / B, the delayed batch-accuracy reward, PPO. Ours:
# iterations for epochs (warm-up 20, then PPO after every batch), one reward
# stage, calibrated rewards into GAE (details: configs/rlkd/README.md).
_base_ = '../_base_/distill/shapes_fcos.py'

model = dict(
    teachers=[
        dict(name='fcos_a',
             config='mtkd_mm::shapes/fcos_r18_fpn_narrow_shapes.py',
             checkpoint='work_dirs/shapes_teachers/fcos_a.pth')],
    temperature=dict(
        type='RLKDTemperature', by_epoch=False, warmup=20, rl_every=1,
        reward_stages=[dict(end=200, period=100, scale=10)]))
custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook')]
