# As faster-rcnn_shapes_union_aver.py, with MMKD's meta-learned weights (a
# meta step every 5 iterations on the current batch) and the distillation
# terms of the other detection methods here, as the KD-gain benchmark's
# MMKD row (tools/analysis/kd_gain.py).
_base_ = './faster-rcnn_shapes_union_aver.py'

model = dict(
    weighting=dict(
        type='MMKD', batch_size={{_base_.train_dataloader.batch_size}}))
custom_hooks = [*_base_.demo_hooks, dict(type='mtkd_mm.LearnerUpdateHook')]
