from .aekd import AEKD, min_norm_simplex
from .aver import AVER
from .base import (PoolInfo, TeacherWeighting, TeacherWeights,
                   weighted_teacher_loss)
from .ca_mkd import CAMKD, confidence_weights
from .ebkd import EBKD
from .look_ahead_trust import CompetenceHeads, LookAheadTrust, TrustScorer
from .mmkd import MMKD
from .mtkd_rl import MTKDRL, PolicyNetwork

__all__ = [
    'AEKD', 'AVER', 'CAMKD', 'CompetenceHeads', 'EBKD', 'LookAheadTrust',
    'MMKD', 'MTKDRL', 'PolicyNetwork', 'PoolInfo', 'TeacherWeighting',
    'TeacherWeights', 'TrustScorer', 'confidence_weights', 'min_norm_simplex',
    'weighted_teacher_loss'
]
