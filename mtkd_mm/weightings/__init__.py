from .aekd import AEKD, min_norm_simplex
from .aver import AVER
from .base import (PoolInfo, TeacherWeighting, TeacherWeights,
                   weighted_teacher_loss)
from .ca_mkd import CAMKD, confidence_weights
from .ebkd import EBKD
from .mmkd import MMKD
from .mtkd_rl import MTKDRL, PolicyNetwork
from .state import TeacherState

__all__ = [
    'AEKD', 'AVER', 'CAMKD', 'EBKD', 'MMKD', 'MTKDRL',
    'PolicyNetwork', 'PoolInfo', 'TeacherState', 'TeacherWeighting',
    'TeacherWeights', 'confidence_weights', 'min_norm_simplex',
    'weighted_teacher_loss'
]
