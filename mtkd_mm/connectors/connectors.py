"""Connectors: map a student feature to a teacher's channels and size."""
import torch.nn as nn
import torch.nn.functional as F

from mtkd_mm.registry import MODELS


def conv_bn(in_channels, out_channels, kernel_size, bias=False):
    return [
        nn.Conv2d(in_channels, out_channels, kernel_size,
                  padding=kernel_size // 2, bias=bias),
        nn.BatchNorm2d(out_channels),
    ]


class Connector(nn.Module):
    """Base: ``layers`` on the student feature, then a bilinear resize to the
    teacher's spatial size when it differs. (B, C_s, H_s, W_s) →
    (B, C_t, H_t, W_t)."""

    def __init__(self, layers):
        super().__init__()
        self.layers = nn.Sequential(*layers)

    def forward(self, student_feat, teacher_size):
        out = self.layers(student_feat)
        if tuple(out.shape[-2:]) != tuple(teacher_size):
            out = F.interpolate(
                out, size=teacher_size, mode='bilinear', align_corners=False)
        return out


@MODELS.register_module()
class ConvBNReLUConnector(Connector):
    """1×1 conv + BN + ReLU (the MTKD-RL and CA-MKD reference)."""

    def __init__(self, in_channels, out_channels):
        super().__init__([*conv_bn(in_channels, out_channels, 1),
                          nn.ReLU(inplace=True)])


@MODELS.register_module()
class BottleneckConnector(Connector):
    """1×1 → 3×3 → 1×1 convs (with biases), each followed by BN and ReLU;
    the middle width is ``in_channels // 2``: the MMKD reference's
    ``Embed(convs=True)`` (Rorozhl/MMKD ``models/meta_util.py:91-107``,
    its README's ``--convs``)."""

    def __init__(self, in_channels, out_channels):
        mid = in_channels // 2
        super().__init__([
            *conv_bn(in_channels, mid, 1, bias=True), nn.ReLU(inplace=True),
            *conv_bn(mid, mid, 3, bias=True), nn.ReLU(inplace=True),
            *conv_bn(mid, out_channels, 1, bias=True), nn.ReLU(inplace=True)
        ])
