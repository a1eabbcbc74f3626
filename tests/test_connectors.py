"""Connectors map (B, C_s, H_s, W_s) to (B, C_t, H_t, W_t)."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mtkd_mm.connectors import BottleneckConnector, ConvBNReLUConnector
from mtkd_mm.registry import MODELS

CONNECTORS = [ConvBNReLUConnector, BottleneckConnector]


def student_feature(*shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize('cls', CONNECTORS)
def test_same_spatial_size(cls):
    connector = cls(in_channels=6, out_channels=10)
    feat = student_feature(2, 6, 8, 8)
    out = connector(feat, (8, 8))
    assert out.shape == (2, 10, 8, 8)
    # No resize when the sizes match: the layers' output as it is.
    torch.testing.assert_close(out, connector.layers(feat))


@pytest.mark.parametrize('cls', CONNECTORS)
@pytest.mark.parametrize('teacher_size', [(4, 4), (16, 12), (7, 9)])
def test_spatial_size_change(cls, teacher_size):
    connector = cls(in_channels=6, out_channels=3)
    feat = student_feature(2, 6, 8, 8)
    out = connector(feat, teacher_size)
    assert out.shape == (2, 3, *teacher_size)
    expected = F.interpolate(connector.layers(feat), size=teacher_size,
                             mode='bilinear', align_corners=False)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize('cls', CONNECTORS)
def test_teacher_size_as_torch_size(cls):
    """The distiller passes ``teacher_feat.shape[-2:]`` (a torch.Size)."""
    connector = cls(in_channels=4, out_channels=5)
    teacher = torch.zeros(2, 5, 3, 6)
    out = connector(student_feature(2, 4, 6, 12), teacher.shape[-2:])
    assert out.shape == teacher.shape


class ReferenceEmbed(nn.Module):
    """Rorozhl/MMKD ``models/meta_util.py`` ``Embed`` with ``convs=True``
    (its ``--convs``), copied as it is."""

    def __init__(self, dim_in=1024, dim_out=128, factor=2):
        super().__init__()
        self.transfer = nn.Sequential(
            nn.Conv2d(dim_in, dim_in // factor, kernel_size=1),
            nn.BatchNorm2d(dim_in // factor),
            nn.ReLU(inplace=True),
            nn.Conv2d(dim_in // factor, dim_in // factor, kernel_size=3,
                      padding=1),
            nn.BatchNorm2d(dim_in // factor),
            nn.ReLU(inplace=True),
            nn.Conv2d(dim_in // factor, dim_out, kernel_size=1),
            nn.BatchNorm2d(dim_out),
            nn.ReLU(inplace=True))

    def forward(self, x):
        return self.transfer(x)


@pytest.mark.parametrize('in_channels, out_channels', [(6, 10), (10, 4)])
def test_bottleneck_is_the_mmkd_references_embed(in_channels, out_channels):
    reference = ReferenceEmbed(in_channels, out_channels)
    connector = BottleneckConnector(in_channels, out_channels)
    assert {k: v.shape for k, v in connector.layers.state_dict().items()} \
        == {k: v.shape for k, v in reference.transfer.state_dict().items()}
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for param in reference.parameters():
            param.normal_(generator=generator)
    connector.layers.load_state_dict(reference.transfer.state_dict())
    feat = student_feature(3, in_channels, 5, 5)
    for training in (True, False):
        reference.train(training), connector.train(training)
        torch.testing.assert_close(connector(feat, (5, 5)), reference(feat))


def test_conv_bn_relu_is_non_negative():
    feat = student_feature(2, 4, 5, 5)
    assert (ConvBNReLUConnector(4, 8)(feat, (5, 5)) >= 0).all()


def test_bottleneck_with_one_output_channel():
    out = BottleneckConnector(3, 1)(student_feature(2, 3, 4, 4), (2, 2))
    assert out.shape == (2, 1, 2, 2)


@pytest.mark.parametrize('cls', CONNECTORS)
def test_gradients_reach_parameters_and_input(cls):
    connector = cls(in_channels=4, out_channels=6)
    feat = student_feature(2, 4, 6, 6).requires_grad_(True)
    connector(feat, (3, 3)).pow(2).sum().backward()
    assert feat.grad is not None and feat.grad.abs().sum() > 0
    for name, param in connector.named_parameters():
        assert param.grad is not None, name


@pytest.mark.parametrize('name',
                         ['ConvBNReLUConnector', 'BottleneckConnector'])
def test_built_from_registry(name):
    connector = MODELS.build(
        dict(type=name, in_channels=3, out_channels=7, _scope_='mtkd_mm'))
    assert connector(student_feature(2, 3, 4, 4), (8, 8)).shape == (2, 7, 8, 8)
