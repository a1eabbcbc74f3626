from .experience import ExperienceBuffer
from .hard_buffer import HardBuffer
from .learner import Learner, reduced_gradients, replay
from .look_ahead import StudentLookAhead, VirtualOptimizer, look_ahead

__all__ = [
    'ExperienceBuffer', 'HardBuffer', 'Learner', 'StudentLookAhead',
    'VirtualOptimizer', 'look_ahead', 'reduced_gradients', 'replay'
]
