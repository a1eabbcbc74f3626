from .entropy_ranked_mixup_hook import EntropyRankedMixupHook
from .learner_update_hook import LearnerUpdateHook
from .rank_consistency_hook import RankConsistencyHook
from .teacher_eval_hook import TeacherEvalHook
from .teacher_weights_by_domain_hook import TeacherWeightsByDomainHook

__all__ = [
    'EntropyRankedMixupHook', 'LearnerUpdateHook', 'RankConsistencyHook',
    'TeacherEvalHook', 'TeacherWeightsByDomainHook'
]
