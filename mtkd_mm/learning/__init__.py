from .experience import ExperienceBuffer
from .learner import Learner, replay

__all__ = ['ExperienceBuffer', 'Learner', 'replay']
