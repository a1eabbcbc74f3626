# RLKD (Zhang et al., arXiv 2407.00115) with MTKD-RL teacher weights on the
# narrow DeepLabV3: a temperature per logit pixel (ours, as in
# deeplabv3_r18-d8_narrow_shapes_kd.py) and the teachers' mean probability
# in the state.
# On the shapes data (CPU size). The paper's: agent, state, T = 10·sigmoid
# (μ + εσ), Σ T²·KL / B, the delayed batch-accuracy reward, PPO. Ours:
# iterations for epochs (warm-up 20, then PPO after every batch), one reward
# stage, calibrated rewards into GAE (details: configs/rlkd/README.md).
_base_ = '../mtkd_rl/deeplabv3_r18-d8_narrow_shapes.py'

model = dict(
    temperature=dict(
        type='RLKDTemperature', by_epoch=False, warmup=20, rl_every=1,
        reward_stages=[dict(end=200, period=100, scale=10)]))
custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook')]
