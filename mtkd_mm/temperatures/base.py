"""The temperature contract: T of the logit loss, per point."""
from abc import ABCMeta, abstractmethod

import torch.nn as nn


class DistillationTemperature(nn.Module, metaclass=ABCMeta):
    """Gives the distiller T for each point of a batch.

    ``forward(points, student, teachers)`` returns a float (one T for the
    batch) or a (P,) tensor, one T per point of
    :class:`~mtkd_mm.views.Points`; ``student`` and ``teachers`` are the
    :class:`~mtkd_mm.views.ModelRecord` of the batch. A temperature that
    learns during distillation keeps its state in the module, like a
    weighting.
    """

    @abstractmethod
    def forward(self, points, student, teachers):
        """float, or (P,) one T per point."""
