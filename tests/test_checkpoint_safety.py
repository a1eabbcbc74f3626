"""Runner checkpoints load with torch's default weights_only=True once
mtkd_mm is imported; nothing beyond their exact types is allowed."""
import io
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import mtkd_mm  # noqa: F401


def roundtrip(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer)  # the default: weights_only=True


def test_message_hub_state_loads_safely():
    hub = MessageHub('safety-test')
    for step in range(5):
        hub.update_scalar('train/loss', float(step))
    hub.update_info('eta', np.float64(12.5))
    loaded = roundtrip({'message_hub': hub.state_dict(),
                        'meta': {'seed': np.int64(3), 'iter': 5}})
    history = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(history, HistoryBuffer)
    assert history.mean() == pytest.approx(2.0)
    assert history.statistics('max') == 4.0
    assert loaded['meta']['seed'] == 3


class GetattrGadget:
    """Pickles as ``getattr(HistoryBuffer, name)``, like a HistoryBuffer's
    statistics methods do, but for any attribute name."""

    def __init__(self, name):
        self.name = name

    def __reduce__(self):
        return getattr, (HistoryBuffer, self.name)


def test_getattr_is_limited_to_history_buffer_statistics():
    assert roundtrip({'m': GetattrGadget('mean')})['m'] is HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError, match='only HistoryBuffer '
                       'statistics'):
        roundtrip({'m': GetattrGadget('__init__')})


def test_arbitrary_globals_stay_forbidden():

    class RunsCode:

        def __reduce__(self):
            return print, ('owned',)

    with pytest.raises(pickle.UnpicklingError):
        roundtrip({'x': RunsCode()})
