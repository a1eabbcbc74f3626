"""One fixed temperature for every point (the papers' T)."""
import math

from mtkd_mm.registry import TEMPERATURES

from .base import DistillationTemperature


@TEMPERATURES.register_module()
class FixedTemperature(DistillationTemperature):
    """T = ``value`` for every point.

    Args:
        value (float): a positive, finite number.
    """

    def __init__(self, value=4.0):
        super().__init__()
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(value) or value <= 0):
            raise ValueError('a positive, finite number is needed, got '
                             f'{value!r}')
        self.value = float(value)

    def forward(self, points, student, teachers):
        return self.value

    def extra_repr(self):
        return f'value={self.value}'
