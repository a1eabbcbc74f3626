# A CPU-sized DeepLabV3: ResNet-18-V1c at half width with output stride 8,
# a 64-channel ASPP head and an FCN auxiliary head, plain BN (SyncBN needs
# CUDA), trained from scratch. num_classes is the shapes dataset's.
_base_ = 'mmseg::_base_/models/deeplabv3_r50-d8.py'

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    pretrained=None,
    data_preprocessor=dict(size=(128, 128)),
    backbone=dict(
        depth=18, base_channels=32, stem_channels=32, norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=256,
        channels=64,
        dilations=(1, 6, 12, 18),
        num_classes=5,
        norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=128, channels=32, num_classes=5, norm_cfg=norm_cfg))
