"""The data types that the views, losses and weightings share: what a view
records of a model (``Points``, ``ModelRecord``), how its points' logits
become probabilities (``SOFTMAX``, ``SIGMOID``) and the per-sample teacher
state that weightings read (``TeacherState``)."""
from .distributions import SIGMOID, SOFTMAX, PointDistribution
from .record import ModelRecord, Points
from .teacher_state import TeacherState

__all__ = [
    'ModelRecord', 'PointDistribution', 'Points', 'SIGMOID', 'SOFTMAX',
    'TeacherState'
]
