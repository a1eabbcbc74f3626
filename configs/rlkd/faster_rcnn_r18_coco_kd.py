# RLKD (Zhang et al., arXiv 2407.00115) for Faster R-CNN R18-FPN on COCO:
# single-teacher KD from the mmdet model-zoo Faster R-CNN R101 with a
# temperature per sampled RoI from a PPO agent.
#
# The paper's: the agent, PPO and the KD term as in resnet18_imagenet_kd.py,
# no feature term. Ours: the RoI is the point (its state and KL from the
# RoI heads on the student's RoIs, the reward's accuracy the RoI
# classification accuracy, 64 random RoIs of a batch its stored path); the
# 12-epoch schedule is too short for the reference's 20-epoch cycles, so
# the warm-up is the first epoch and PPO runs after every batch from the
# second on; the reward stages follow the learning-rate steps (8, 11).
_base_ = '../_base_/distill/coco_faster-rcnn_r18.py'

model = dict(
    teachers=[{{_base_.teacher_r101}}],
    feature_loss=None,
    temperature=dict(
        type='RLKDTemperature', warmup=2, rl_every=1,
        reward_stages=[
            dict(end=8, period=4, scale=10),
            dict(end=11, period=1.5, scale=5),
            dict(end=12, period=1.5, scale=2)
        ]))
custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook')]
