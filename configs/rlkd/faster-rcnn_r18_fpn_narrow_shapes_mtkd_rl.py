# RLKD (Zhang et al., arXiv 2407.00115) with MTKD-RL teacher weights on the
# narrow Faster R-CNN: a temperature per sampled RoI (ours, as in
# faster-rcnn_r18_fpn_narrow_shapes_kd.py) and the teachers' mean
# probability in the state.
# On the shapes data (CPU size, 200 iterations, cosine learning rate).
# The paper's (ALGORITHMS.md §4): actor, critic, the per-point T =
# 10·sigmoid(μ + εσ) with the paper's margin and log-probability, the KD
# term Σ T_i²·KL / B, the delayed reward Δ batch accuracy × the stage
# scale, PPO (clip 0.2, 5 + 5 epochs, grad clip 2, Adam 1e-4 / 1e-3), T = 4
# in the warm-up. Ours: counted in iterations (warm-up 20 iterations, then
# a PPO update after every batch, as the reference does in its RL epochs),
# one reward stage over the cosine schedule, the calibrated instance
# rewards feeding GAE (the paper's intent; the released code drops them).
_base_ = '../mtkd_rl/faster-rcnn_r18_fpn_narrow_shapes.py'

model = dict(
    temperature=dict(
        type='RLKDTemperature', by_epoch=False, warmup=20, rl_every=1,
        reward_stages=[dict(end=200, period=100, scale=10)]))
custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook')]
