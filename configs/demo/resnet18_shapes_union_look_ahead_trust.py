# As resnet18_shapes_union_aver.py, with LookAheadTrust weights: OURS, not a
# published method (mtkd_mm/weightings/look_ahead_trust.py). Its defaults:
# look-ahead credit averaged over the nearest quarter of the update's images
# (credit_neighbourhood=0.25), normalised state, the expected-credit policy,
# an update every 10 iterations.
_base_ = './resnet18_shapes_union_aver.py'

model = dict(weighting=dict(type='LookAheadTrust'))
custom_hooks = [*_base_.demo_hooks, dict(type='mtkd_mm.LearnerUpdateHook')]
