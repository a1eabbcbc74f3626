# As resnet18_shapes_union_aver.py (AVER weights), with RLKD's per-sample
# temperature from a PPO agent (configs/rlkd/resnet18_narrow_shapes_kd.py).
_base_ = './resnet18_shapes_union_aver.py'

model = dict(
    temperature=dict(
        _delete_=True,
        type='RLKDTemperature', by_epoch=False, warmup=20, rl_every=1,
        reward_stages=[dict(end=200, period=100, scale=10)]))
custom_hooks = [*_base_.demo_hooks, dict(type='mtkd_mm.LearnerUpdateHook')]
