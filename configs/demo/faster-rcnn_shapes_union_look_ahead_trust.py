# As faster-rcnn_shapes_union_aver.py, with LookAheadTrust weights: OURS, not
# a published method (mtkd_mm/weightings/look_ahead_trust.py). Its defaults:
# look-ahead credit, normalised state, the expected-credit policy, an update
# every 10 iterations.
_base_ = './faster-rcnn_shapes_union_aver.py'

model = dict(weighting=dict(type='LookAheadTrust'))
custom_hooks = [*_base_.demo_hooks, dict(type='mtkd_mm.LearnerUpdateHook')]
