from .experience import ExperienceBuffer
from .learner import Learner, replay
from .look_ahead import VirtualOptimizer, look_ahead

__all__ = [
    'ExperienceBuffer', 'Learner', 'VirtualOptimizer', 'look_ahead', 'replay'
]
