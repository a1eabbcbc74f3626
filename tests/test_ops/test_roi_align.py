"""The separable RoIAlign against mmcv's own kernel on the same tensors."""
import pytest
import torch
from mmcv.ops import RoIAlign, roi_align

from mtkd_mm.ops import SeparableRoIAlign, separable_roi_align
from mtkd_mm.ops import roi_align as module
from mtkd_mm.ops.roi_align import window


def rois_for(images, count, size, largest=0.6, seed=0):
    """(count, 5) random RoIs over ``images`` images of ``size`` px, sides
    up to ``largest`` of the image; with ``largest`` above 0.5 also some
    that cross, leave or collapse on the map's borders."""
    generator = torch.Generator().manual_seed(seed)
    corner = torch.rand(count, 2, generator=generator) * size * 0.7
    extent = 1 + torch.rand(count, 2, generator=generator) * size * largest
    index = torch.randint(0, images, (count, 1), generator=generator)
    random = torch.cat([index.float(), corner, corner + extent], 1)
    if largest <= 0.5:
        return random
    edges = torch.tensor([
        [0, -20., -20., size + 40., size + 40.],  # larger than the map
        [images - 1, size - 3., size - 3., size + 9., size + 9.],  # corner
        [0, size + 10., 5., size + 30., 20.],  # outside the map
        [0, 4., 4., 4., 4.],  # a point
        [0, -6., 2., 3., size - 1.],  # a thin column on the border
    ])
    return torch.cat([random, edges])


@pytest.mark.parametrize('aligned', [True, False])
@pytest.mark.parametrize('sampling_ratio', [0, 2])
@pytest.mark.parametrize('scale', [1 / 4, 1 / 16])
def test_equals_mmcvs_kernel_in_fp32_on_whole_maps(aligned, sampling_ratio,
                                                  scale):
    features = torch.randn(3, 8, 24, 20)
    rois = rois_for(3, 60, 24 / scale)
    expected = roi_align(features, rois, (7, 5), scale, sampling_ratio,
                         'avg', aligned)
    got = separable_roi_align(features, rois, (7, 5), scale, sampling_ratio,
                              aligned)
    assert got.shape == (65, 8, 7, 5)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert expected[-3].abs().sum() == 0  # samples off the map count 0
    assert got[-3].abs().sum() == 0


@pytest.mark.parametrize('aligned', [True, False])
@pytest.mark.parametrize('chunk', [module.CHUNK_ELEMENTS, 1])
def test_equals_mmcvs_kernel_in_fp32_on_windows(aligned, chunk,
                                               monkeypatch):
    """Small RoIs read windows of the map (``chunk`` 1: one RoI at a
    time), in either memory layout."""
    features = torch.randn(2, 16, 32, 32)
    rois = rois_for(2, 40, 128, largest=0.3)
    windows = []
    monkeypatch.setattr(module, 'CHUNK_ELEMENTS', chunk)
    monkeypatch.setattr(module, 'window', lambda w: windows.append(
        window(w)) or windows[-1])
    expected = roi_align(features, rois, 7, 0.25, 0, 'avg', aligned)
    for layout in (torch.contiguous_format, torch.channels_last):
        got = separable_roi_align(
            features.contiguous(memory_format=layout), rois, 7, 0.25, 0,
            aligned)
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert 2 * windows[0][1] * windows[1][1] <= 32 * 32, 'windows taken'


def test_no_rois_give_an_empty_output():
    got = separable_roi_align(torch.randn(1, 4, 8, 8), torch.zeros(0, 5), 7,
                              0.25)
    assert got.shape == (0, 4, 7, 7)


def test_bf16_is_within_bf16_rounding_of_mmcvs_fp32():
    features = torch.randn(2, 64, 32, 32)
    rois = rois_for(2, 200, 128)
    expected = roi_align(features, rois, 7, 0.25, 0, 'avg', True)
    got = separable_roi_align(features.bfloat16(), rois, 7, 0.25)
    assert got.dtype == torch.bfloat16
    error = (got.float() - expected).abs()
    # bf16 keeps 8 bits: 2⁻⁸ of each output's scale, and of its inputs'
    assert error.max() <= 2 ** -7 * features.abs().max()
    assert error.mean() <= 2 ** -8 * expected.abs().mean()


def test_the_module_takes_mmcvs_settings():
    layer = RoIAlign((7, 7), spatial_scale=0.125, sampling_ratio=2,
                     aligned=False)
    separable = SeparableRoIAlign(layer)
    features, rois = torch.randn(2, 4, 16, 16), rois_for(2, 10, 128)
    torch.testing.assert_close(separable(features, rois),
                               layer(features, rois), rtol=1e-5, atol=1e-5)
