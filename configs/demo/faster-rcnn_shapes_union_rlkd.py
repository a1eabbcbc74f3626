# As faster-rcnn_shapes_union_aver.py (AVER weights), with RLKD's temperature
# per RoI from a PPO agent, as the KD-gain benchmark's RLKD (AVER) row
# (tools/analysis/kd_gain.py): T = 1 in a warm-up of 20 iterations, then a
# PPO update after every batch, one reward scale for the whole run.
_base_ = './faster-rcnn_shapes_union_aver.py'

model = dict(
    temperature=dict(
        _delete_=True,
        type='RLKDTemperature', by_epoch=False, warmup=20, rl_every=1,
        reward_stages=[],
        warmup_temperature={{_base_.model.temperature}}))
custom_hooks = [*_base_.demo_hooks, dict(type='mtkd_mm.LearnerUpdateHook')]
