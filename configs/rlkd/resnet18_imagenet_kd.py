# RLKD (Zhang et al., arXiv 2407.00115) for ResNet-18 on ImageNet: single-
# teacher KD from the mmpretrain model-zoo ResNet-50 with a per-sample
# temperature from a PPO agent.
#
# The paper's (its ImageNet config rl-rs34-rs18.yaml): 1·CE + 1·KD, no
# feature term, T = 4 in the first 19 epochs, then T = 10·sigmoid(μ + εσ)
# per sample; PPO after every batch of every 20th epoch (clip 0.2, 5 critic
# and 5 actor steps, grad clip 2, Adam 1e-3 / 1e-4); the reward Δ of the
# macro batch accuracy × ((cos(Eπ/P) + 1)/2 + 1)·s in the stages E < 30 /
# 60 / 90 (P = 75 / 30 / 30, s = 10 / 5 / 2), no mixup exploration.
# Ours: the teacher (the reference distils ResNet-34; the zoo's ResNet-50
# checkpoint is used here); the paper's margin and log-probability and the
# calibrated instance rewards [g_0, g_1 - g_0, ...] + (R - sum) / N (R: the
# batch reward) feeding GAE (the released code's are options:
# margin='reference', log_prob_at='temperature', calibration='reference':
# PPO on the delayed reward, as its calibrated rewards, [ret_0, g_1 - g_0,
# ...] + (ret_i - sum) / N of the rewards-to-go ret, never reach PPO).
_base_ = '../_base_/distill/imagenet_resnet18.py'

model = dict(
    teachers=[{{_base_.teacher_resnet50}}],
    feature_loss=None,
    temperature=dict(
        type='RLKDTemperature', warmup=20, rl_every=20,
        reward_stages=[
            dict(end=30, period=75, scale=10),
            dict(end=60, period=30, scale=5),
            dict(end=90, period=30, scale=2)
        ]))
custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook')]
