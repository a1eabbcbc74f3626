"""tools/train.py and tools/test.py (with --out and --show-dir) on the three
shapes base configs, with the real Runner, real models and the real
metrics. (``dist_train.sh`` and ``--resume`` are tested on a distillation
config, in tests/test_distill/test_mtkd_rl_training.py.)"""
import pickle
import time

import pytest

from tests.conftest import (REPO, last_scalars, load_tool_module, run,
                            run_in_process)

CONFIGS = REPO / 'configs' / 'shapes'

# Chance levels on the 60 validation images, and what the 200-iteration
# schedules reached when measured (README: "Base configs"):
# - bbox mAP: random boxes score ~0.00; measured 0.55. Bar: 0.30.
# - mIoU over 5 classes: all-background scores ~15 (background IoU ~75,
#   shapes 0); measured 90.7. Bar: 60.
# - top-1 over 4 classes: the majority class is ~30 %; measured 91.7 %.
#   Bar: 60 %.
BASE_CONFIGS = [
    ('faster-rcnn_r18_fpn_narrow_shapes.py', 'coco/bbox_mAP', 0.30),
    ('deeplabv3_r18-d8_narrow_shapes.py', 'mIoU', 60.0),
    ('resnet18_narrow_shapes.py', 'accuracy/top1', 60.0),
]


@pytest.mark.slow
@pytest.mark.parametrize('config,metric,threshold', BASE_CONFIGS)
def test_train_reaches_metric_and_test_reproduces_it(workspace, base_runs,
                                                     config, metric,
                                                     threshold):
    work_dir = base_runs(config[:-len('.py')])
    trained = last_scalars(work_dir, metric)[metric]
    assert trained > threshold, f'{config}: {metric}={trained}'

    checkpoint = work_dir / 'iter_200.pth'
    out = workspace / 'predictions.pkl'
    test_dir = workspace / 'test'
    show_dir = workspace / 'drawn'
    # a process of its own: the packages' visualisers are process-wide
    # singletons that an earlier run in this process would have created
    run(['python', REPO / 'tools' / 'test.py', CONFIGS / config, checkpoint,
         '--work-dir', test_dir, '--out', out, '--show-dir', show_dir],
        cwd=workspace)
    assert last_scalars(test_dir, metric)[metric] == pytest.approx(trained)
    with open(out, 'rb') as f:
        assert len(pickle.load(f)) == 60
    drawn = [p for p in show_dir.rglob('*') if p.suffix in ('.png', '.jpg')]
    assert drawn, f'--show-dir wrote no image under {show_dir}'


def test_test_each_evaluates_every_run_into_its_own_work_dir(
        workspace, teacher_ckpts, monkeypatch):
    """tools/analysis/test_each.py: several evaluations of one config in
    one process, each logged into its own work dir with its own metrics
    (the same as tools/test.py's), even when MMEngine's runners are built
    in the same second."""
    test_each = load_tool_module('tools/analysis/test_each.py').test_each
    config = CONFIGS / 'resnet18_narrow_shapes.py'
    run_in_process('test', config, teacher_ckpts[0], '--work-dir',
                   workspace / 'alone', cwd=workspace)
    monkeypatch.chdir(workspace)
    monkeypatch.setattr(time, 'strftime', lambda *args: '20261206_000000')
    test_each([[config, teacher_ckpts[0], '--work-dir', workspace / 'all'],
               [config, teacher_ckpts[0], '--work-dir', workspace / 'ten',
                '--cfg-options', 'test_dataloader.dataset.indices=10']])
    monkeypatch.undo()
    metric = 'accuracy/top1'
    for name in ('all', 'ten'):
        assert len(list((workspace / name).glob('*/*.log'))) == 1, name
    assert last_scalars(workspace / 'all', metric)[metric] == \
        last_scalars(workspace / 'alone', metric)[metric]
    ten = last_scalars(workspace / 'ten', metric)[metric]
    assert ten == pytest.approx(round(ten / 10) * 10), 'top-1 of 10 images'
