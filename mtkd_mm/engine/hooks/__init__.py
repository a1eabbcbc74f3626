from .rank_consistency_hook import RankConsistencyHook
from .teacher_eval_hook import TeacherEvalHook

__all__ = ['RankConsistencyHook', 'TeacherEvalHook']
