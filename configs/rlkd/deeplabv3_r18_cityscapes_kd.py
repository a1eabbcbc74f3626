# RLKD (Zhang et al., arXiv 2407.00115) for DeepLabV3 R18-D8 on Cityscapes:
# single-teacher KD from the mmseg model-zoo DeepLabV3 R101-D8 with a
# temperature per logit pixel from a PPO agent.
#
# The paper's: the agent, PPO and the KD term as in resnet18_imagenet_kd.py,
# no feature term. Ours: the pixel is the point (the reward's accuracy is
# pixel accuracy, 64 random pixels of a batch its stored path; per='image'
# gives one T per image); mmseg's schedule counts iterations, so the
# warm-up is the first 8,000 of 80,000 (the reference's share of 20 epochs
# in 240 is 8 %) and PPO runs on one batch in 20 (its RL epochs are one in
# 20); one reward stage spans the poly schedule.
_base_ = '../_base_/distill/cityscapes_deeplabv3_r18.py'

model = dict(
    teachers=[{{_base_.teacher_deeplabv3_r101}}],
    feature_loss=None,
    temperature=dict(
        type='RLKDTemperature', by_epoch=False, warmup=8000, rl_every=20,
        reward_stages=[dict(end=80000, period=40000, scale=10)]))
custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook')]
