from .cpu_ddp import CPUDistributedDataParallel
from .hooks import RankConsistencyHook, TeacherEvalHook
from .optim_constructor import DistillerOptimWrapperConstructor

__all__ = [
    'CPUDistributedDataParallel', 'DistillerOptimWrapperConstructor',
    'RankConsistencyHook', 'TeacherEvalHook'
]
