# A CPU-sized ResNet-18 classifier (half width, 4 classes), from scratch.
_base_ = 'mmpretrain::_base_/models/resnet18.py'

model = dict(
    backbone=dict(stem_channels=32, base_channels=32),
    head=dict(num_classes=4, in_channels=256, topk=(1, )))
