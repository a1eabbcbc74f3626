"""RLKD's entropy-ranked exploration (the released ITKD code's mixup):
the pairs against the reference's formula, the blended images, the
dataloader workers seeing each epoch's pairs, and a run of
configs/rlkd/resnet18_narrow_shapes_kd_explore.py that blends in exactly
the scheduled epochs and checkpoints the scores."""
import re

import mmcv
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate

import mtkd_mm  # noqa: F401  (registers the dataset)
from mtkd_mm.datasets import EntropyRankedMixupDataset
from mtkd_mm.engine.hooks.entropy_ranked_mixup_hook import (CHECKPOINT_KEY,
                                                           mixup_pairs)
from tests.conftest import REPO, run

EXPLORE = REPO / 'configs' / 'rlkd' / 'resnet18_narrow_shapes_kd_explore.py'


def test_pairs_follow_the_reference():
    """utils/trainer.py ``on_train_epoch_end``: indices by descending
    score; slot lost[j] = rank 80-90 % gets remain[j] = rank 10-20 % with
    r_j = 0.3 (M − j) / M + 0.7."""
    scores = torch.rand(200, dtype=torch.float64)
    images, partners, weights = mixup_pairs(scores)
    order = np.argsort(-scores.numpy(), kind='stable')
    m = 20
    assert images.tolist() == order[160:180].tolist()
    assert partners.tolist() == order[20:40].tolist()
    expected = [0.3 * (m - j) / m + 0.7 for j in range(m)]
    assert weights.tolist() == pytest.approx(expected, abs=1e-12)
    assert scores[partners].min() > scores[images].max()


def shapes_dataset(shapes_root):
    return EntropyRankedMixupDataset(dict(
        type='mmpretrain.CustomDataset', data_root=str(shapes_root),
        ann_file='cls_labels/train.txt', data_prefix='images/train',
        metainfo=dict(classes=('circle', 'square', 'triangle', 'star')),
        pipeline=[dict(type='mmpretrain.LoadImageFromFile'),
                  dict(type='mmpretrain.PackInputs')]))


def image(dataset, idx):
    return mmcv.imread(dataset.get_data_info(idx)['img_path'])


def test_blended_image_keeps_its_label(shapes_root):
    dataset = shapes_dataset(shapes_root)
    plain = dataset[3]
    dataset.set_pairs(torch.tensor([3]), torch.tensor([7]),
                      torch.tensor([0.8], dtype=torch.float64))
    mixed = dataset[3]
    expected = (0.8 * image(dataset, 7).astype(np.float64) +
                0.2 * image(dataset, 3)).astype(np.uint8)
    got = mixed['inputs'].permute(1, 2, 0).numpy()
    assert np.abs(got.astype(int) - expected).max() <= 1
    assert mixed['data_samples'].gt_label == plain['data_samples'].gt_label
    assert mixed['data_samples'].sample_idx == 3
    assert torch.equal(dataset[4]['inputs'], dataset.dataset[4]['inputs'])
    dataset.clear()
    assert torch.equal(dataset[3]['inputs'], plain['inputs'])


def test_persistent_workers_see_new_pairs(shapes_root):
    """The pairs live in shared memory: a persistent worker, started
    before they were set, blends from the next epoch on."""
    dataset = shapes_dataset(shapes_root)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=2, sampler=[0, 1], num_workers=1,
        persistent_workers=True, collate_fn=pseudo_collate)
    first = next(iter(loader))['inputs'][0]
    dataset.set_pairs(torch.tensor([0]), torch.tensor([5]),
                      torch.tensor([1.0], dtype=torch.float64))
    second = next(iter(loader))['inputs'][0]
    assert not torch.equal(first, second)
    assert torch.equal(second, dataset.dataset[5]['inputs'])


def train_explore(workspace, teacher, work_dir, epochs, ranks=1, *options):
    """The shapes exploration config for ``epochs``, blending after epoch 1
    in every 2nd (2, 4), a checkpoint every 2 epochs."""
    command = (['python', REPO / 'tools' / 'train.py'] if ranks == 1 else
               ['bash', REPO / 'tools' / 'dist_train.sh'])
    command += [EXPLORE] + ([] if ranks == 1 else [str(ranks)])
    return run(command + [
        '--work-dir', work_dir, *options, '--cfg-options',
        f'model.teachers.0.checkpoint={teacher}', f'max_epochs={epochs}',
        f'train_cfg.max_epochs={epochs}',
        'default_hooks.checkpoint.interval=2', 'model.temperature.warmup=2',
        'custom_hooks.1.start_epoch=1'], cwd=workspace,
        env={'PORT': '29615'})


def blend_lines(work_dir):
    log = sorted(work_dir.glob('*/*.log'))[-1].read_text()
    return re.findall(r'epoch (\d+): (\d+) low-entropy images blended', log)


def saved_scores(path):
    return torch.load(path, weights_only=True)[CHECKPOINT_KEY]


@pytest.mark.slow
@pytest.mark.parametrize('ranks', [1, 2])
def test_blends_in_the_scheduled_epochs_and_checkpoints_scores(
        workspace, base_runs, ranks):
    """Blending in epoch 2 (24 of the 240 images); after it every image
    has been scored in both epochs, also with 2 ranks (each sees half of
    them). Resumed after epoch 2 (one rank), the run blends again in epoch
    4 and adds epochs 3 and 4 to the saved scores."""
    teacher = base_runs('resnet18_narrow_shapes') / 'iter_200.pth'
    work_dir = workspace / 'explore'
    train_explore(workspace, teacher, work_dir, 2, ranks)
    assert blend_lines(work_dir) == [('2', '24')]
    scores = saved_scores(work_dir / 'epoch_2.pth')
    assert scores.shape == (240, )
    assert (scores > 0).all() and scores.max() <= 2 * np.log(4) + 1e-6
    if ranks == 1:
        resumed = workspace / 'resumed'
        train_explore(workspace, teacher, resumed, 4, 1, '--resume',
                      work_dir / 'epoch_2.pth')
        assert blend_lines(resumed) == [('4', '24')]
        added = saved_scores(resumed / 'epoch_4.pth') - scores
        assert (added > 0).all() and added.max() <= 2 * np.log(4) + 1e-6
