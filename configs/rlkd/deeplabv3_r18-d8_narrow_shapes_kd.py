# RLKD (Zhang et al., arXiv 2407.00115): single-teacher KD of the narrow
# DeepLabV3 with a temperature per logit pixel from a PPO agent (ours: the
# pixel is the point, the reward's accuracy is pixel accuracy, 64 random
# pixels of a batch are its stored path; per='image' gives one T per image
# from its pixels' mean state).
# On the shapes data (CPU size, 200 iterations, cosine learning rate).
# The paper's (ALGORITHMS.md §4): actor, critic, the per-point T =
# 10·sigmoid(μ + εσ) with the paper's margin and log-probability, the KD
# term Σ T_i²·KL / B, the delayed reward Δ batch accuracy × the stage
# scale, PPO (clip 0.2, 5 + 5 epochs, grad clip 2, Adam 1e-4 / 1e-3), T = 4
# in the warm-up. Ours: counted in iterations (warm-up 20 iterations, then
# a PPO update after every batch, as the reference does in its RL epochs),
# one reward stage over the cosine schedule, the calibrated instance
# rewards feeding GAE (the paper's intent; the released code drops them).
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
