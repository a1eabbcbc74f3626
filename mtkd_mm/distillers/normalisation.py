"""Re-normalise a student's input batch for a teacher's preprocessor."""
from typing import NamedTuple

import torch


class Normalisation(NamedTuple):
    """How a data preprocessor maps a loaded image to model inputs.

    Attributes:
        mean (Tensor): (C, 1, 1), zeros when it does not normalise.
        std (Tensor): (C, 1, 1), ones when it does not normalise.
        swaps_channels (bool): it reverses the loaded channel order
            (``bgr_to_rgb`` / ``to_rgb``).
    """
    mean: torch.Tensor
    std: torch.Tensor
    swaps_channels: bool


def normalisation_of(preprocessor):
    """Read the normalisation of an mmengine / mmdet / mmseg / mmpretrain
    data preprocessor."""
    swaps = any(
        getattr(preprocessor, name, False)
        for name in ('_channel_conversion', 'channel_conversion', 'to_rgb'))
    if getattr(preprocessor, '_enable_normalize', False):
        mean = preprocessor.mean.reshape(-1, 1, 1)
        std = preprocessor.std.reshape(-1, 1, 1)
    else:
        mean, std = torch.zeros(3, 1, 1), torch.ones(3, 1, 1)
    return Normalisation(mean.float(), std.float(), bool(swaps))


def renormalise(inputs, source, target):
    """Inputs normalised as ``source`` → as ``target`` would have made them.

    Args:
        inputs (Tensor): (B, C, H, W) normalised by ``source``.
        source, target (Normalisation): student's and teacher's.

    Returns:
        Tensor: (B, C, H, W); ``inputs`` itself when both are the same.
    """
    same = (source.swaps_channels == target.swaps_channels
            and torch.equal(source.mean, target.mean)
            and torch.equal(source.std, target.std))
    if same:
        return inputs
    device = inputs.device
    raw = inputs * source.std.to(device) + source.mean.to(device)
    if source.swaps_channels != target.swaps_channels:
        raw = raw.flip(1)
    return (raw - target.mean.to(device)) / target.std.to(device)
