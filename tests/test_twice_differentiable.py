"""The torch stand-ins a look-ahead uses for mmcv ops without a second
derivative, against those ops; the samplers' replay."""
import pytest
import torch
from mmcv.ops import RoIAlign, RoIPool

from mtkd_mm.ops import SeparableRoIAlign
from mtkd_mm.views.twice_differentiable import (recorded_sampling,
                                                replayed_sampling,
                                                torch_focal_loss)


def random_rois(num, size, images, seed=0):
    """(num, 5) RoIs over ``images`` images, some partly outside, one
    degenerate."""
    gen = torch.Generator().manual_seed(seed)
    corners = torch.rand(num, 4, generator=gen) * (size * 1.2) - size * 0.1
    x1, x2 = corners[:, 0].minimum(corners[:, 2]), corners[:, 0].maximum(
        corners[:, 2])
    y1, y2 = corners[:, 1].minimum(corners[:, 3]), corners[:, 1].maximum(
        corners[:, 3])
    x2[0], y2[0] = x1[0], y1[0]
    image = torch.randint(0, images, (num, ), generator=gen).float()
    return torch.stack([image, x1, y1, x2, y2], dim=1)


@pytest.mark.parametrize('aligned', [True, False])
@pytest.mark.parametrize('sampling_ratio', [0, 2])
def test_roi_align_equals_mmcv(aligned, sampling_ratio):
    layer = RoIAlign((7, 5), spatial_scale=0.25,
                     sampling_ratio=sampling_ratio, aligned=aligned)
    gen = torch.Generator().manual_seed(1)
    features = torch.randn(2, 3, 20, 24, generator=gen)
    rois = random_rois(40, 96, images=2)
    upstream = torch.randn(40, 3, 7, 5, generator=gen)
    outputs, grads = [], []
    for op in (layer, SeparableRoIAlign(layer)):
        inputs = features.clone().requires_grad_()
        output = op(inputs, rois)
        (output * upstream).sum().backward()
        outputs.append(output.detach())
        grads.append(inputs.grad)
    assert outputs[0].abs().max() > 1
    torch.testing.assert_close(outputs[1], outputs[0], rtol=0, atol=2e-5)
    torch.testing.assert_close(grads[1], grads[0], rtol=0, atol=2e-5)


def test_roi_align_has_a_second_derivative():
    layer = SeparableRoIAlign(
        RoIAlign((3, 3), spatial_scale=0.5, sampling_ratio=0))
    features = torch.randn(1, 2, 6, 7, dtype=torch.float64,
                           requires_grad=True)
    rois = random_rois(5, 14, images=1, seed=2).double()
    assert torch.autograd.gradgradcheck(
        lambda f: layer(f, rois).pow(2).sum(), (features, ))


def test_roi_pool_is_refused():
    with pytest.raises(ValueError, match='RoIPool has no twice'):
        SeparableRoIAlign(RoIPool((7, 7), 0.25))


def test_focal_loss_inside_is_mmdets_torch_form():
    """Inside the context, the function mmdet's FocalLoss calls on CUDA
    gives what FocalLoss gives on the CPU (weights, avg_factor), with a
    second derivative."""
    from mmdet.models.losses import FocalLoss, focal_loss
    gen = torch.Generator().manual_seed(3)
    pred = torch.randn(12, 4, generator=gen)
    target = torch.randint(0, 5, (12, ), generator=gen)
    weight = torch.rand(12, generator=gen)
    expected = FocalLoss()(pred, target, weight, avg_factor=7.0)
    cuda_path = focal_loss.sigmoid_focal_loss
    pred.requires_grad_()
    with torch_focal_loss():
        inside = focal_loss.sigmoid_focal_loss(
            pred, target, weight, gamma=2.0, alpha=0.25, reduction='mean',
            avg_factor=7.0)
    assert focal_loss.sigmoid_focal_loss is cuda_path
    torch.testing.assert_close(inside, expected)
    # a second derivative, which mmcv's op refuses
    grad, = torch.autograd.grad(inside, pred, create_graph=True)
    second, = torch.autograd.grad(grad.pow(2).sum(), pred)
    assert second.abs().sum() > 0


class CountingSampler:
    def __init__(self):
        self.draws = 0

    def sample(self, image):
        self.draws += 1
        return (image, self.draws)


def test_samplers_replay_their_first_draw_per_image():
    samplers = [CountingSampler(), CountingSampler()]
    with replayed_sampling(samplers, num_images=2):
        for _ in range(3):  # three losses on a batch of two images
            results = [s.sample(image) for s in samplers
                       for image in ('a', 'b')]
            assert results == [('a', 1), ('b', 2)] * 2
    assert [s.draws for s in samplers] == [2, 2]
    assert 'sample' not in vars(samplers[0])
    assert samplers[0].sample('c') == ('c', 3)


def test_samplers_replay_a_given_draw_and_record_inside_a_replay():
    """A real step's recorded draw is replayed by every later loss; a
    recording inside the replay sees the replayed results."""
    sampler = CountingSampler()
    with recorded_sampling([sampler]) as real_step:
        assert [sampler.sample(image) for image in 'ab'] == [('a', 1),
                                                            ('b', 2)]
    with replayed_sampling([sampler], 2, first_draws=real_step):
        for _ in range(2):
            with recorded_sampling([sampler]) as inside:
                assert [sampler.sample(image) for image in 'xy'] == [
                    ('a', 1), ('b', 2)]
            assert inside == real_step
    assert sampler.draws == 2
