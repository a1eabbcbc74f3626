from .aekd import AEKD, min_norm_simplex
from .aver import AVER
from .base import TeacherWeighting, TeacherWeights
from .ca_mkd import CAMKD, confidence_weights
from .ebkd import EBKD
from .state import TeacherState

__all__ = [
    'AEKD', 'AVER', 'CAMKD', 'EBKD', 'TeacherState', 'TeacherWeighting',
    'TeacherWeights', 'confidence_weights', 'min_norm_simplex'
]
