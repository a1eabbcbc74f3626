from .atomic_files import AtomicLocalBackend
from .cpu_ddp import CPUDistributedDataParallel
from .hooks import (LearnerUpdateHook, RankConsistencyHook, TeacherEvalHook,
                    TeacherWeightsByDomainHook)
from .optim_constructor import DistillerOptimWrapperConstructor

__all__ = [
    'AtomicLocalBackend', 'CPUDistributedDataParallel',
    'DistillerOptimWrapperConstructor', 'LearnerUpdateHook',
    'RankConsistencyHook', 'TeacherEvalHook', 'TeacherWeightsByDomainHook'
]
