"""Let torch's safe unpickler (``weights_only=True``, the default since torch
2.6) read the checkpoints that MMEngine's ``Runner`` writes.

Besides tensors, a runner checkpoint holds the message hub's
``HistoryBuffer`` objects: numpy arrays and scalars (an empty array's data
as ``bytes()``), and, through
``HistoryBuffer.__getstate__``, ``getattr(HistoryBuffer, 'min')``-style
references to its statistics methods. Exactly those are allow-listed here,
``getattr`` only in a form restricted to those methods. ``weights_only`` is
never switched off, so a checkpoint from the internet still cannot run
code. Imported by ``mtkd_mm/__init__.py``.
"""
import os.path as osp
import pickle
import re

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')


def history_buffer_statistic(owner, name):
    """The only ``getattr`` a runner checkpoint may call: a statistics
    method of ``HistoryBuffer``."""
    known = set(HISTORY_BUFFER_STATISTICS) | set(
        HistoryBuffer._statistics_methods)
    if owner is not HistoryBuffer or name not in known:
        raise pickle.UnpicklingError(
            f'checkpoint asks for getattr({owner!r}, {name!r}); only '
            f'HistoryBuffer statistics {sorted(known)} are allowed')
    return getattr(owner, name)


def _numpy_globals():
    """numpy's array and scalar reconstructors and dtype classes, under the
    numpy 2 names and the numpy 1 names that older checkpoints carry."""
    multiarray = np._core.multiarray if hasattr(
        np, '_core') else np.core.multiarray
    dtype_classes = {type(np.dtype(t)) for t in set(np.sctypeDict.values())}
    return [
        np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar,
        *sorted(dtype_classes, key=lambda c: c.__name__),
        (multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
        (multiarray.scalar, 'numpy.core.multiarray.scalar'),
    ]


RUNNER_CHECKPOINT_GLOBALS = [
    HistoryBuffer,
    bytes,  # protocol 2 pickles b'' (an empty array's data) as bytes()
    (history_buffer_statistic, 'builtins.getattr'),
    (history_buffer_statistic, '__builtin__.getattr'),
    *_numpy_globals(),
]


def allow_runner_checkpoints():
    """Add the globals of an MMEngine runner checkpoint to torch's
    allow-list (idempotent)."""
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(RUNNER_CHECKPOINT_GLOBALS)


allow_runner_checkpoints()


def why_unloadable(path, error):
    """One line on why ``torch.load(path)`` failed: the global the safe
    loader refused (the file's code is not run), or the first sentence of
    the error; never torch's advice to switch ``weights_only`` off."""
    text = str(error).strip()
    refused = re.search(r'unsupported (?:global: )?GLOBAL (\S+)', text, re.I)
    if refused:
        return (f'it asks for {refused.group(1)}, which the safe loader '
                'refuses (nothing in it was run)')
    if osp.isfile(path) and osp.getsize(path) == 0:
        return 'the file is empty'
    lines = [line for line in text.splitlines() if line.strip()]
    if text.startswith('Weights only load failed') and len(lines) > 1:
        return f'the safe loader refuses it: {lines[1].strip()}'
    first = lines[0].split('. ')[0] if lines else ''
    return f'{type(error).__name__}: {first}'
