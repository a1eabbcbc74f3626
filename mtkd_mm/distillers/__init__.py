from .multi_teacher_distiller import MultiTeacherDistiller
from .normalisation import Normalisation, normalisation_of, renormalise
from .teacher_pool import TeacherPool

__all__ = [
    'MultiTeacherDistiller', 'Normalisation', 'TeacherPool',
    'normalisation_of', 'renormalise'
]
