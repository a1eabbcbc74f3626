# RLKD (Zhang et al., arXiv 2407.00115): single-teacher KD of the narrow
# Faster R-CNN with a temperature per sampled RoI from a PPO agent (ours:
# the RoI is the point; its state, KL and the RoI-classification accuracy
# of the reward come from the RoI head; 64 random RoIs of a batch are its
# stored path).
# On the shapes data (CPU size). The paper's: agent, state, T = 10·sigmoid
# (μ + εσ), Σ T²·KL / B, the delayed batch-accuracy reward, PPO. Ours:
# iterations for epochs (warm-up 20, then PPO after every batch), one reward
# stage, calibrated rewards into GAE (details: configs/rlkd/README.md).
_base_ = '../_base_/distill/shapes_faster-rcnn.py'

model = dict(
    teachers=[
        dict(name='frcnn_a',
             config='mtkd_mm::shapes/faster-rcnn_r18_fpn_narrow_shapes.py',
             checkpoint='work_dirs/shapes_teachers/faster-rcnn_a.pth')],
    temperature=dict(
        type='RLKDTemperature', by_epoch=False, warmup=20, rl_every=1,
        reward_stages=[dict(end=200, period=100, scale=10)]))
custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook')]
