# MTKD-RL (Yang et al., AAAI 2025) for ResNet-18 on ImageNet, with the
# mmpretrain model-zoo ResNet-50 and ResNet-101 as teachers.
#
# The paper's: everything (state, agent, fusion (a + c + d) / 3, reward,
# surrogate update of the fused weights with SGD lr 0.1 after every 1000th
# batch of an epoch and at its end, T = 4, α = 1, β = 5, first-epoch warm-up
# with all weights 1, whose experience the agent learns from). The paper's
# ImageNet pool differs; these are the zoo's checkpoints.
_base_ = '../_base_/distill/imagenet_resnet18.py'

model = dict(
    weighting=dict(type='MTKDRL', warmup_epochs=1, update_interval=1000),
    temperature=4.0,
    logit_loss_weight=1.0,
    feature_loss_weight=5.0)
custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook')]
