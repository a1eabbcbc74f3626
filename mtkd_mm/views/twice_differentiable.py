"""What a detector's loss needs to be a twice-differentiable function of
its parameters alone, as a look-ahead of the student (MMKD) needs it:
mmcv ops without a second derivative replaced by torch ones, and the
random samplers replaying their first draw."""
from contextlib import ExitStack, contextmanager

import torch
import torch.nn as nn
import torch.nn.functional as F

from .recorder import replaced


def _axis_weights(start, length, bins, size, sampling_ratio):
    """(N, bins, size): each input row's mean bilinear weight over the
    samples of each output bin, along one axis of mmcv's RoIAlign (a
    sample outside [-1, size] counts as 0; one below 0 is read at 0, one
    past the last row at the last row)."""
    bin_length = length / bins
    if sampling_ratio > 0:
        grid = torch.full_like(length, sampling_ratio, dtype=torch.long)
    else:
        grid = torch.ceil(length / bins).long()
    samples = max(int(grid.max()) if len(grid) else 1, 1)
    per_bin = grid.clamp(min=1).to(length.dtype)[:, None, None]
    index = torch.arange(samples, device=length.device)
    position = (start[:, None, None] + bin_length[:, None, None] * (
        torch.arange(bins, device=length.device)[None, :, None] +
        (index[None, None, :] + 0.5) / per_bin))
    counted = ((position >= -1) & (position <= size) &
               (index[None, None, :] < grid[:, None, None]))
    position = position.clamp(min=0)
    low = position.floor().long()
    at_end = low >= size - 1
    low = torch.where(at_end, torch.full_like(low, size - 1), low)
    high = torch.where(at_end, low, low + 1)
    fraction = torch.where(at_end, torch.zeros_like(position),
                           position - low.to(position.dtype))
    weights = position.new_zeros(*position.shape, size)
    weights.scatter_add_(-1, low[..., None], (1 - fraction)[..., None])
    weights.scatter_add_(-1, high[..., None], fraction[..., None])
    weights = weights * counted[..., None].to(weights.dtype)
    return weights.sum(dim=2) / per_bin


class TwiceDifferentiableRoIAlign(nn.Module):
    """mmcv's ``RoIAlign`` (average pooling) written with torch ops, so that
    its gradient has a gradient; mmcv's backward is
    ``once_differentiable``. As in mmcv, the RoIs get no gradient.

    Bilinear sampling is separable, so each RoI's output is
    ``A_y F A_xᵀ`` with per-axis interpolation matrices ``A``.

    Args:
        layer (mmcv.ops.RoIAlign): the layer it stands in for.
    """

    def __init__(self, layer):
        super().__init__()
        if type(layer).__name__ != 'RoIAlign' or layer.pool_mode != 'avg':
            raise ValueError(
                f'{type(layer).__name__} has no twice-differentiable form '
                "here; mmcv's RoIAlign with pool_mode='avg' has")
        self.output_size = tuple(layer.output_size)
        self.spatial_scale = float(layer.spatial_scale)
        self.sampling_ratio = int(layer.sampling_ratio)
        self.aligned = bool(layer.aligned)

    def forward(self, features, rois):
        """features (B, C, H, W), rois (N, 5) [image, x1, y1, x2, y2] →
        (N, C, out_h, out_w)."""
        rois = rois.detach().to(features.dtype)
        out_h, out_w = self.output_size
        height, width = features.shape[-2:]
        offset = 0.5 if self.aligned else 0.0
        x1, y1, x2, y2 = (rois[:, 1:] * self.spatial_scale - offset).unbind(1)
        roi_w, roi_h = x2 - x1, y2 - y1
        if not self.aligned:
            roi_w, roi_h = roi_w.clamp(min=1), roi_h.clamp(min=1)
        rows = _axis_weights(y1, roi_h, out_h, height, self.sampling_ratio)
        columns = _axis_weights(x1, roi_w, out_w, width,
                                self.sampling_ratio)
        output = features.new_zeros(len(rois), features.shape[1], out_h,
                                    out_w)
        image_of = rois[:, 0].long()
        for image in image_of.unique().tolist():
            mine = (image_of == image).nonzero(as_tuple=True)[0]
            output = output.index_put(
                (mine, ),
                torch.einsum('rph,chw,rqw->rcpq', rows[mine],
                             features[image], columns[mine]))
        return output


def _one_hot_focal_loss(pred, target, weight=None, gamma=2.0, alpha=0.25,
                        reduction='mean', avg_factor=None):
    """mmdet's CUDA focal loss (an mmcv op, once differentiable) as its
    torch form, which mmdet uses on the CPU."""
    from mmdet.models.losses.focal_loss import py_sigmoid_focal_loss
    num_classes = pred.size(1)
    target = F.one_hot(target, num_classes=num_classes + 1)[:, :num_classes]
    return py_sigmoid_focal_loss(pred, target, weight, gamma, alpha,
                                 reduction, avg_factor)


@contextmanager
def torch_focal_loss():
    """mmdet's ``FocalLoss`` takes its torch form on CUDA too."""
    from mmdet.models.losses import focal_loss
    with replaced(focal_loss, 'sigmoid_focal_loss', _one_hot_focal_loss):
        yield


@contextmanager
def torch_roi_align(roi_extractor):
    """The extractor's mmcv ``RoIAlign`` layers replaced by
    :class:`TwiceDifferentiableRoIAlign`."""
    original = roi_extractor.roi_layers
    roi_extractor.roi_layers = nn.ModuleList(
        [TwiceDifferentiableRoIAlign(layer) for layer in original])
    try:
        yield
    finally:
        roi_extractor.roi_layers = original


@contextmanager
def recorded_sampling(samplers):
    """Yields one list per sampler, which its ``sample`` results join in
    call order (one per image and loss)."""
    draws = [[] for _ in samplers]
    with ExitStack() as stack:
        for sampler, drawn in zip(samplers, draws):

            def sample(*args, draw=sampler.sample, drawn=drawn, **kwargs):
                drawn.append(draw(*args, **kwargs))
                return drawn[-1]

            stack.enter_context(replaced(sampler, 'sample', sample))
        yield draws


@contextmanager
def replayed_sampling(samplers, num_images, first_draws=None):
    """Each sampler's ``sample`` gives the results of a first loss on the
    batch again, in the same order, so that every loss trains the same
    anchors and RoIs: those of ``first_draws`` (per sampler, one result
    per image, e.g. the real step's), else of its own first
    ``num_images`` calls."""
    with ExitStack() as stack:
        for index, sampler in enumerate(samplers):
            drawn = list(first_draws[index]) if first_draws else []
            calls = [0]

            def sample(*args, draw=sampler.sample, drawn=drawn, calls=calls,
                       **kwargs):
                if len(drawn) < num_images:
                    drawn.append(draw(*args, **kwargs))
                result = drawn[calls[0] % num_images]
                calls[0] += 1
                return result

            stack.enter_context(replaced(sampler, 'sample', sample))
        yield
