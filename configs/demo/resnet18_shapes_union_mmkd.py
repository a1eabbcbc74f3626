# As resnet18_shapes_union_aver.py, with MMKD's meta-learned weights and the
# reference's terms (configs/mmkd/resnet18_narrow_shapes.py): a meta step
# every 5 iterations on the current batch, beta = 100 with the 1x1-3x3-1x1
# connector.
_base_ = './resnet18_shapes_union_aver.py'

model = dict(
    weighting=dict(
        type='MMKD', batch_size={{_base_.train_dataloader.batch_size}}),
    feature_loss_weight=100.0,
    connector=dict(type='BottleneckConnector'))
custom_hooks = [*_base_.demo_hooks, dict(type='mtkd_mm.LearnerUpdateHook')]
