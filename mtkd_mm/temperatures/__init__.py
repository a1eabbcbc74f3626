from .base import DistillationTemperature
from .fixed import FixedTemperature
from .rlkd import RLKDTemperature

__all__ = ['DistillationTemperature', 'FixedTemperature', 'RLKDTemperature']
