from .experience import ExperienceBuffer
from .hard_buffer import HardBuffer
from .learner import Learner, replay
from .look_ahead import StudentLookAhead, VirtualOptimizer, look_ahead

__all__ = [
    'ExperienceBuffer', 'HardBuffer', 'Learner', 'StudentLookAhead',
    'VirtualOptimizer', 'look_ahead', 'replay'
]
