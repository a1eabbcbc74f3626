"""Distributed data parallel on CPU processes (the ``gloo`` backend)."""
from mmengine.model import MMDistributedDataParallel

from mtkd_mm.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that accepts a module living on the CPU.

    ``Runner.wrap_model`` always passes ``device_ids=[LOCAL_RANK]``, which
    ``DistributedDataParallel`` rejects for a CPU module; it is dropped here.
    ``tools/train.py`` selects this wrapper only when CUDA is absent.
    """

    def __init__(self, module, device_ids=None, **kwargs):
        super().__init__(module=module, device_ids=None, **kwargs)
