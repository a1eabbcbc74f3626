# RLKD (Zhang et al., arXiv 2407.00115) with MTKD-RL teacher weights for
# DeepLabV3 R18-D8 on Cityscapes (DeepLabV3 and PSPNet R101-D8 teachers):
# the MTKD-RL config with a temperature per logit pixel (ours, as in
# deeplabv3_r18_cityscapes_kd.py) and the teachers' mean probability in the
# state.
_base_ = '../mtkd_rl/deeplabv3_r18_cityscapes.py'

model = dict(
    temperature=dict(
        _delete_=True, type='RLKDTemperature', by_epoch=False,
        warmup=8000, rl_every=20,
        reward_stages=[dict(end=80000, period=40000, scale=10)]))
