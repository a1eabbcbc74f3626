"""Let torch's safe unpickler (``weights_only=True``, the default since torch
2.6) read the checkpoints that MMEngine's ``Runner`` writes.

A runner checkpoint holds, besides tensors, the message hub's
``HistoryBuffer`` objects (numpy arrays inside) and numpy scalars and
dtypes. Exactly those types are allow-listed here; ``weights_only`` is never
switched off, so a checkpoint from the internet still cannot run code.
Imported by ``mtkd_mm/__init__.py``.
"""
import numpy as np
import torch
from mmengine.logging import HistoryBuffer


def _numpy_globals():
    """numpy's array and scalar reconstructors and every dtype class."""
    multiarray = np._core.multiarray if hasattr(
        np, '_core') else np.core.multiarray
    dtype_classes = [
        type(np.dtype(t)) for t in np.sctypeDict.values()
        if isinstance(t, type)
    ]
    return [
        multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype,
        *sorted(set(dtype_classes), key=lambda c: c.__name__)
    ]


RUNNER_CHECKPOINT_GLOBALS = [HistoryBuffer, *_numpy_globals()]


def allow_runner_checkpoints():
    """Add the types of an MMEngine runner checkpoint to torch's allow-list
    (idempotent)."""
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(RUNNER_CHECKPOINT_GLOBALS)


allow_runner_checkpoints()
