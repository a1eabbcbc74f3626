# RLKD (Zhang et al., arXiv 2407.00115) with MTKD-RL teacher weights for
# ResNet-18 on ImageNet: the MTKD-RL config (ResNet-50 and ResNet-101
# teachers, its feature term) with each sample's KL at the temperature of
# resnet18_imagenet_kd.py's agent (ours: the combination; the state's
# teacher top-1 is that of the teachers' mean probability).
_base_ = '../mtkd_rl/resnet18_imagenet.py'

model = dict(
    temperature=dict(
        _delete_=True, type='RLKDTemperature', warmup=20, rl_every=20,
        reward_stages=[
            dict(end=30, period=75, scale=10),
            dict(end=60, period=30, scale=5),
            dict(end=90, period=30, scale=2)
        ]))
