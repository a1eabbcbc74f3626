# RLKD (Zhang et al., arXiv 2407.00115): single-teacher KD of the narrow
# ResNet-18 with a per-sample temperature from a PPO agent.
# On the shapes data (CPU size). The paper's: agent, state, T = 10·sigmoid
# (μ + εσ), Σ T²·KL / B, the delayed batch-accuracy reward, PPO. Ours:
# iterations for epochs (warm-up 20, then PPO after every batch), one reward
# stage, calibrated rewards into GAE (details: configs/rlkd/README.md).
_base_ = '../_base_/distill/shapes_resnet18.py'

model = dict(
    teachers=[
        dict(name='resnet_a',
             config='mtkd_mm::shapes/resnet18_narrow_shapes.py',
             checkpoint='work_dirs/shapes_teachers/resnet18_a.pth')],
    temperature=dict(
        type='RLKDTemperature', by_epoch=False, warmup=20, rl_every=1,
        reward_stages=[dict(end=200, period=100, scale=10)]))
custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook')]
