# RLKD (Zhang et al., arXiv 2407.00115): single-teacher KD of the narrow
# DeepLabV3 with a temperature per logit pixel from a PPO agent (ours: the
# pixel is the point, the reward's accuracy is pixel accuracy, 64 random
# pixels of a batch are its stored path; per='image' gives one T per image
# from its pixels' mean state).
# On the shapes data (CPU size). The paper's: agent, state, T = 10·sigmoid
# (μ + εσ), Σ T²·KL / B, the delayed batch-accuracy reward, PPO. Ours:
# iterations for epochs (warm-up 20, then PPO after every batch), one reward
# stage, calibrated rewards into GAE (details: configs/rlkd/README.md).
_base_ = '../_base_/distill/shapes_deeplabv3.py'

model = dict(
    teachers=[
        dict(name='deeplab_a',
             config='mtkd_mm::shapes/deeplabv3_r18-d8_narrow_shapes.py',
             checkpoint='work_dirs/shapes_teachers/deeplabv3_a.pth')],
    temperature=dict(
        type='RLKDTemperature', by_epoch=False, warmup=20, rl_every=1,
        reward_stages=[dict(end=200, period=100, scale=10)]))
custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook')]
