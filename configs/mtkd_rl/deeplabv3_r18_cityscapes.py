# MTKD-RL (Yang et al., AAAI 2025) for DeepLabV3 R18-D8 on Cityscapes, with
# the mmseg model-zoo DeepLabV3 R101-D8 and PSPNet R101-D8 as teachers.
#
# The paper's: agent, state, fusion (a + c + d) / 3, reward, surrogate update
# of the fused weights (SGD lr 0.1), T = 4, α = 1, β = 5, a warm-up of one
# epoch with all weights 1 whose experience the agent learns from.
# Ours: the schedule is iteration-based (mmseg's), so the warm-up is the
# iterations of one epoch and the agent updates every 1000 iterations
# instead of after every 1000th batch of an epoch; "sample" = image; KL and
# CE are pixel means over the decode head's logits (CE ignores label 255),
# the state's logits the spatial mean of the class probabilities, the
# embedding the pooled last backbone stage, the feature loss on the last
# backbone stage after the connector.
_base_ = '../_base_/distill/cityscapes_deeplabv3_r18.py'

model = dict(
    weighting=dict(
        type='MTKDRL', warmup_iters=372,  # one epoch at bs 8
        update_interval=1000),
    temperature=4.0,
    logit_loss_weight=1.0,
    feature_loss_weight=5.0)
custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook')]
