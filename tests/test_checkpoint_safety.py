"""Runner checkpoints load with torch's default weights_only=True once
mtkd_mm is imported; nothing beyond their exact types is allowed."""
import io
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import mtkd_mm  # noqa: F401
from tests.conftest import REPO, run_in_process

CLS_CONFIG = REPO / 'configs' / 'shapes' / 'resnet18_narrow_shapes.py'


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


def test_resume_from_a_checkpoint_holding_an_empty_array(tmp_path,
                                                       shapes_root):
    """An empty HistoryBuffer (a key logged no value yet) holds empty numpy
    arrays, whose data protocol 2 (torch.save's) pickles as ``bytes()``."""
    work_dir = tmp_path / 'work'
    options = ['train_cfg.max_iters=2', 'default_hooks.checkpoint.interval=2',
               'train_cfg.val_interval=100', 'train_dataloader.batch_size=4',
               f'train_dataloader.dataset.data_root={shapes_root}',
               f'val_dataloader.dataset.data_root={shapes_root}']
    run_in_process('train', CLS_CONFIG, '--work-dir', work_dir,
                   '--cfg-options', *options, cwd=tmp_path)
    checkpoint = torch.load(work_dir / 'iter_2.pth')
    checkpoint['message_hub']['log_scalars']['train/empty'] = HistoryBuffer()
    torch.save(checkpoint, work_dir / 'iter_2.pth')

    run_in_process('train', CLS_CONFIG, '--work-dir', work_dir, '--resume',
                   '--cfg-options', *options[1:], 'train_cfg.max_iters=3',
                   cwd=tmp_path)
    resumed = torch.load(work_dir / 'iter_3.pth')
    assert resumed['meta']['iter'] == 3


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
