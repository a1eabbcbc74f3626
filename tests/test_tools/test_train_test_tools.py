"""tools/train.py and tools/test.py on the three shapes base configs, with the
real Runner, real models and the real metrics."""
import ast
import pickle

import pytest
import torch

from tests.conftest import REPO, last_scalars, run

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
    run(['python', REPO / 'tools' / 'test.py', CONFIGS / config, checkpoint,
         '--work-dir', test_dir, '--out', out], cwd=workspace)
    assert last_scalars(test_dir, metric)[metric] == pytest.approx(trained)
    with open(out, 'rb') as f:
        assert len(pickle.load(f)) == 60


@pytest.fixture
def short_cls_config(workspace):
    """The classification config with the rank-consistency check and a
    checkpoint every 10 iterations."""
    path = workspace / 'short_cls.py'
    path.write_text(
        f"_base_ = '{CONFIGS / 'resnet18_narrow_shapes.py'}'\n"
        "custom_hooks = [dict(type='mtkd_mm.RankConsistencyHook',"
        " interval=10)]\n"
        "default_hooks = dict(checkpoint=dict(interval=10),"
        " logger=dict(interval=5))\n"
        'train_cfg = dict(max_iters=30, val_interval=1000)\n')
    return path


@pytest.mark.slow
def test_dist_train_two_cpu_ranks_end_identical(workspace, short_cls_config):
    work_dir = workspace / 'dist'
    proc = run(['bash', REPO / 'tools' / 'dist_train.sh', short_cls_config,
                '2', '--work-dir', work_dir],
               cwd=workspace, env={'PORT': '29612'})
    log = next(work_dir.glob('*/*.log')).read_text()
    assert 'world_size: 2' in log or 'Distributed launcher: pytorch' in log
    digests = [line.split('rank: ')[1] for line in log.splitlines()
               if 'model digests per rank' in line]
    assert len(digests) == 4, proc.stdout[-3000:]  # iters 10, 20, 30, end
    for line in digests:
        per_rank = ast.literal_eval(line)
        assert len(per_rank) == 2 and per_rank[0] == per_rank[1]


@pytest.mark.slow
def test_resume_equals_uninterrupted(workspace, short_cls_config):
    whole, part = workspace / 'whole', workspace / 'part'
    train = ['python', REPO / 'tools' / 'train.py', short_cls_config]
    run([*train, '--work-dir', whole], cwd=workspace)
    run([*train, '--work-dir', part,
         '--cfg-options', 'train_cfg.max_iters=20'], cwd=workspace)
    run([*train, '--work-dir', part, '--resume', part / 'iter_20.pth'],
        cwd=workspace)
    # The default weights_only=True loads both (mtkd_mm's allow-list).
    import mtkd_mm  # noqa: F401
    uninterrupted = torch.load(whole / 'iter_30.pth')
    resumed = torch.load(part / 'iter_30.pth')
    assert resumed['meta']['iter'] == uninterrupted['meta']['iter'] == 30
    for name, value in uninterrupted['state_dict'].items():
        assert torch.equal(resumed['state_dict'][name], value), name
