"""Every checkpoint is unpickled by torch's safe loader (``weights_only=True``),
local or URL, whatever the call site or the environment say; the safe loader
reads the checkpoints that MMEngine's ``Runner`` writes.

Every loader of MMEngine's ``CheckpointLoader`` (local files, http(s),
``torchvision://``, ``open-mmlab://``, …: teachers, ``load_from``,
``--resume``, ``Pretrained`` init) runs with ``TORCH_FORCE_WEIGHTS_ONLY_LOAD``
set and ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` unset for the time of the load:
torch's own switch that wins over ``torch.hub``'s ``weights_only=False`` and
over the environment. Its failures are :class:`CheckpointError` naming the
file.

Besides tensors, a runner checkpoint holds the message hub's
``HistoryBuffer`` objects: numpy arrays and scalars (an empty array's data
as ``bytes()``), and, through
``HistoryBuffer.__getstate__``, ``getattr(HistoryBuffer, 'min')``-style
references to its statistics methods. Exactly those are allow-listed here,
``getattr`` only in a form restricted to those methods. ``weights_only`` is
never switched off, so a checkpoint from the internet still cannot run
code. Imported by ``mtkd_mm/__init__.py``.
"""
import functools
import os
import os.path as osp
import pickle
import re
from contextlib import contextmanager

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from .errors import CheckpointError

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


@contextmanager
def weights_only_loads():
    """Within it, every ``torch.load`` in this process unpickles with
    ``weights_only=True``, whatever its caller or the environment ask."""
    saved = {name: os.environ.pop(name, None) for name in (
        'TORCH_FORCE_WEIGHTS_ONLY_LOAD', 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD')}
    os.environ['TORCH_FORCE_WEIGHTS_ONLY_LOAD'] = '1'
    try:
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


def weights_only_loader(loader):
    """``loader`` (a ``CheckpointLoader`` scheme) run under
    :func:`weights_only_loads`; its failures become :class:`CheckpointError`."""
    if getattr(loader, 'weights_only', False):
        return loader

    @functools.wraps(loader)
    def load(filename, *args, **kwargs):
        with weights_only_loads():
            try:
                return loader(filename, *args, **kwargs)
            except CheckpointError:
                raise
            except Exception as error:
                raise CheckpointError(
                    filename, why_unloadable(filename, error)) from error

    load.weights_only = True
    return load


def make_checkpoint_loaders_safe():
    """Wrap every registered ``CheckpointLoader`` scheme in
    :func:`weights_only_loader` (idempotent: call it again after importing
    a package that registers schemes)."""
    for prefix, loader in list(CheckpointLoader._schemes.items()):
        CheckpointLoader.register_scheme(
            prefix, weights_only_loader(loader), force=True)


allow_runner_checkpoints()
make_checkpoint_loaders_safe()


def why_unloadable(path, error):
    """One line on why ``torch.load(path)`` failed: the global the safe
    loader refused (the file's code is not run), or the first sentence of
    the error; never torch's advice to switch ``weights_only`` off."""
    text = str(error).strip()
    refused = re.search(r'unsupported (?:global: )?GLOBAL (\S+)', text, re.I)
    if refused:
        return (f'it asks for {refused.group(1)}, which the safe loader '
                'refuses (nothing in it was run)')
    if isinstance(error, FileNotFoundError) or (
            '://' not in str(path) and not osp.exists(path)):
        return 'it does not exist'
    if osp.isfile(path) and osp.getsize(path) == 0:
        return 'the file is empty'
    lines = [line for line in text.splitlines() if line.strip()]
    if text.startswith('Weights only load failed') and len(lines) > 1:
        return f'the safe loader refuses it: {lines[1].strip()}'
    first = lines[0].split('. ')[0] if lines else ''
    return f'{type(error).__name__}: {first}'
