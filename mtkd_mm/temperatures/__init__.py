from .base import DistillationTemperature
from .fixed import FixedTemperature

__all__ = ['DistillationTemperature', 'FixedTemperature']
