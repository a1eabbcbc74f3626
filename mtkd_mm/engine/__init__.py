from .cpu_ddp import CPUDistributedDataParallel
from .hooks import (MTKDRLAgentHook, RankConsistencyHook, TeacherEvalHook,
                    TeacherWeightsByDomainHook)
from .optim_constructor import DistillerOptimWrapperConstructor

__all__ = [
    'CPUDistributedDataParallel', 'DistillerOptimWrapperConstructor',
    'MTKDRLAgentHook', 'RankConsistencyHook', 'TeacherEvalHook',
    'TeacherWeightsByDomainHook'
]
