from .mtkd_rl_agent_hook import MTKDRLAgentHook
from .rank_consistency_hook import RankConsistencyHook
from .teacher_eval_hook import TeacherEvalHook

__all__ = ['MTKDRLAgentHook', 'RankConsistencyHook', 'TeacherEvalHook']
