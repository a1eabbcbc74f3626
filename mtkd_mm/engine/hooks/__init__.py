from .mtkd_rl_agent_hook import MTKDRLAgentHook
from .rank_consistency_hook import RankConsistencyHook
from .teacher_eval_hook import TeacherEvalHook
from .teacher_weights_by_domain_hook import TeacherWeightsByDomainHook

__all__ = [
    'MTKDRLAgentHook', 'RankConsistencyHook', 'TeacherEvalHook',
    'TeacherWeightsByDomainHook'
]
