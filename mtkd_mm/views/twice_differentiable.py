"""What a detector's loss needs to be a twice-differentiable function of
its parameters alone, as a look-ahead of the student (MMKD) needs it:
mmcv ops without a second derivative replaced by torch ones, and the
random samplers replaying their first draw."""
from contextlib import ExitStack, contextmanager

import torch.nn as nn
import torch.nn.functional as F

from mtkd_mm.ops import SeparableRoIAlign

from .recorder import replaced


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
    """The extractor's mmcv ``RoIAlign`` layers replaced by their separable
    form (:class:`mtkd_mm.ops.SeparableRoIAlign`)."""
    original = roi_extractor.roi_layers
    roi_extractor.roi_layers = nn.ModuleList(
        [SeparableRoIAlign(layer) for layer in original])
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
