"""mmcv's RoIAlign ('avg' mode) as two matrix products of torch ops: twice
differentiable and in any precision.

mmcv's kernels have no second derivative (``once_differentiable``), which
MMKD's look-ahead of the student needs, and their CPU kernel runs in fp32
only, where it is much of a low-precision two-stage teacher's forward
(docs/performance.md). This is mtkd_mm's own form of the same function,
written from mmcv's definition, for both.

Bilinear interpolation is separable: sample (y, x) of a feature map F (H, W)
is ``wy(y)ᵀ F wx(x)``, ``wy`` (H,) holding the two row weights (zero where
mmcv drops a sample outside the map). A bin averages its samples, so

    out[k, c, p, q] = Wy[k, p]ᵀ F[b_k, c] Wx[k, q] / count_k,

``Wy[k, p]`` (H,) the sum of ``wy`` over the bin's sample rows. Each RoI
reads only the window of F its weights touch; two batched products give
every bin. In fp32 it equals mmcv's kernel up to summation order
(``tests/test_ops/test_roi_align.py``).
"""
import torch
from torch import nn
from torch.nn.modules.utils import _pair

#: RoI windows gathered at once: at most this many elements (K · h · w · C).
CHUNK_ELEMENTS = 1 << 24


def axis_weights(start, bin_size, grid, size, pooled):
    """(K, pooled, size) weights of each bin's samples along one axis,
    summed over the bin's ``grid`` samples; ``start``, ``bin_size``,
    ``grid``: (K,) in feature-map units."""
    samples = max(int(grid.max().item()), 1) if grid.numel() else 1
    index = torch.arange(samples, device=start.device, dtype=start.dtype)
    bins = torch.arange(pooled, device=start.device, dtype=start.dtype)
    step = (bin_size / grid.clamp(min=1))[:, None, None]
    coord = (start[:, None, None] + bins[:, None] * bin_size[:, None, None] +
             (index + 0.5) * step)  # (K, P, G)
    keep = ((index < grid[:, None, None]) & (coord >= -1.0) &
            (coord <= size)).to(start.dtype)
    coord = coord.clamp(min=0)
    low = coord.floor().long()
    last = low >= size - 1
    low = low.clamp(max=size - 1)
    high = torch.where(last, low, low + 1)
    coord = torch.where(last, low.to(coord.dtype), coord)
    frac = coord - low
    weights = start.new_zeros(start.shape[0], pooled, size)
    weights.scatter_add_(2, low, (1 - frac) * keep)
    weights.scatter_add_(2, high, frac * keep)
    return weights


def window(weights):
    """(K,) first index of the smallest window holding every non-zero of
    ``weights`` (K, P, size), and the window's length, shared by all K."""
    count, _, size = weights.shape
    if count == 0:
        return weights.new_zeros(0, dtype=torch.long), 1
    used = weights.abs().sum(1) > 0  # (K, size)
    index = torch.arange(size, device=weights.device)
    first = torch.where(used, index, size).amin(1)
    last = torch.where(used, index, -1).amax(1)
    length = max(int((last - first).max().item()) + 1, 1)
    return first.clamp(min=0, max=size - length), length


def blocks(pixels, images, row_weights, col_weights):
    """The RoIs in blocks ``(index, wy (k, P, h), wx (k, Q, w), patches)``,
    ``patches`` the (k, h, w · C) windows of ``pixels`` (N, H, W, C) that the
    block's weights touch; or, where a window would copy most of the map,
    one block per image with its whole (H, W · C) map."""
    images_n, height, width, channels = pixels.shape
    row_first, rows = window(row_weights)
    col_first, cols = window(col_weights)
    if 2 * rows * cols > height * width:
        for image in range(images_n):
            index = (images == image).nonzero().squeeze(1)
            if index.numel():
                yield (index, row_weights[index], col_weights[index],
                       pixels[image].reshape(height, width * channels))
        return
    flat_pixels = pixels.reshape(-1, channels)  # (N · H · W, C)
    chunk = max(CHUNK_ELEMENTS // (rows * cols * channels), 1)
    for start in range(0, images.shape[0], chunk):
        part = slice(start, start + chunk)
        row_index = row_first[part, None] + torch.arange(
            rows, device=pixels.device)  # (k, h)
        col_index = col_first[part, None] + torch.arange(
            cols, device=pixels.device)  # (k, w)
        flat = (images[part, None, None] * height + row_index[:, :, None]
                ) * width + col_index[:, None, :]  # (k, h, w)
        patches = flat_pixels.index_select(0, flat.flatten()).view(
            -1, rows, cols * channels)
        yield (part,
               row_weights[part].gather(
                   2, row_index[:, None].expand(-1, row_weights.shape[1],
                                                -1)),
               col_weights[part].gather(
                   2, col_index[:, None].expand(-1, col_weights.shape[1],
                                                -1)),
               patches)


def separable_roi_align(features, rois, output_size, spatial_scale,
                        sampling_ratio=0, aligned=True):
    """mmcv's RoIAlign in 'avg' mode: (N, C, H, W) ``features`` and
    (K, 5) ``rois`` (image index, x1, y1, x2, y2) → (K, C, P, Q), in the
    features' dtype (``channels_last`` in memory)."""
    pooled_h, pooled_w = _pair(output_size)
    _, channels, height, width = features.shape
    rois = rois.to(torch.promote_types(features.dtype, torch.float32))
    offset = 0.5 if aligned else 0.0
    x1, y1, x2, y2 = (rois[:, 1:] * spatial_scale - offset).unbind(1)
    roi_w, roi_h = x2 - x1, y2 - y1
    if not aligned:
        roi_w, roi_h = roi_w.clamp(min=1.0), roi_h.clamp(min=1.0)
    if sampling_ratio > 0:
        grid_h = grid_w = torch.full_like(roi_h, sampling_ratio)
    else:
        grid_h, grid_w = (roi_h / pooled_h).ceil(), (roi_w / pooled_w).ceil()
    count = (grid_h * grid_w).clamp(min=1)
    row_weights = axis_weights(y1, roi_h / pooled_h, grid_h, height,
                               pooled_h) / count[:, None, None]
    col_weights = axis_weights(x1, roi_w / pooled_w, grid_w, width, pooled_w)
    output = features.new_empty(rois.shape[0], pooled_h, pooled_w, channels)
    for index, wy, wx, patches in blocks(features.permute(0, 2, 3, 1),
                                         rois[:, 0].long(), row_weights,
                                         col_weights):
        by_rows = torch.matmul(wy.to(features.dtype), patches)  # (k, P, w·C)
        by_rows = by_rows.view(-1, wx.shape[2], channels)  # (k · P, w, C)
        wx = wx.to(features.dtype).repeat_interleave(pooled_h, 0)
        output[index] = torch.bmm(wx, by_rows).view(
            -1, pooled_h, pooled_w, channels)
    return output.permute(0, 3, 1, 2)


class SeparableRoIAlign(nn.Module):
    """Stands in for ``layer``, mmcv's ``RoIAlign`` in 'avg' mode; see
    :func:`separable_roi_align`. As in mmcv, the RoIs get no gradient."""

    def __init__(self, layer):
        super().__init__()
        if type(layer).__name__ != 'RoIAlign' or layer.pool_mode != 'avg':
            raise ValueError(
                f'{type(layer).__name__} has no twice-differentiable form '
                "here (mtkd_mm's separable RoIAlign); mmcv's RoIAlign with "
                "pool_mode='avg' has")
        self.output_size = tuple(layer.output_size)
        self.spatial_scale = float(layer.spatial_scale)
        self.sampling_ratio = int(layer.sampling_ratio)
        self.aligned = bool(layer.aligned)

    def forward(self, features, rois):
        """(N, C, H, W) ``features``, (K, 5) ``rois`` → (K, C, P, Q) in the
        features' dtype, computed in autocast's where autocast is on (a
        low-precision teacher's RoI extractor is fed fp32, which keeps the
        RoIs' coordinates exact)."""
        device, dtype = features.device.type, features.dtype
        if torch.is_autocast_enabled(device):
            features = features.to(torch.get_autocast_dtype(device),
                                   memory_format=torch.channels_last)
        return separable_roi_align(features, rois.detach(), self.output_size,
                                   self.spatial_scale, self.sampling_ratio,
                                   self.aligned).to(dtype)
