"""MTKDRLAgentHook's schedule with the real Runner: in an epoch-based loop
it follows the reference (winycg/MTKD-RL ``train_loops.py``): an update
after each batch whose index in the epoch is a non-zero multiple of the
interval, one over what is left at the epoch's end, and the warm-up epoch's
experience is learnt from."""
import re

from tests.conftest import REPO, run_in_process

TEACHER = 'mtkd_mm::shapes/resnet18_narrow_shapes.py'


def reference_schedule(batches_per_epoch, interval, epochs):
    """Batches replayed by each update of the reference training loop."""
    replayed = []
    for _ in range(epochs):
        pending = 0
        for batch_idx in range(batches_per_epoch):
            pending += 1
            if batch_idx % interval == 0 and batch_idx != 0:
                replayed.append(pending)
                pending = 0
        if pending:
            replayed.append(pending)
    return replayed


def test_epoch_based_schedule_follows_the_reference(workspace):
    config = workspace / 'rl_epochs.py'
    config.write_text(
        f"_base_ = '{REPO / 'configs/mtkd_rl/resnet18_narrow_shapes.py'}'\n"
        'model = dict(\n'
        '    weighting=dict(warmup_iters=0, warmup_epochs=1),\n'
        '    teachers=[\n'
        f"        dict(name='a', config='{TEACHER}', checkpoint=None),\n"
        f"        dict(name='b', config='{TEACHER}', checkpoint=None)])\n"
        "custom_hooks = [dict(type='mtkd_mm.MTKDRLAgentHook',"
        ' update_interval=4)]\n'
        'train_dataloader = dict(batch_size=16, sampler=dict(\n'
        "    _delete_=True, type='DefaultSampler', shuffle=True))\n"
        "train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop',\n"
        '                 max_epochs=2, val_interval=100)\n')
    work_dir = workspace / 'work'
    run_in_process('train', config, '--work-dir', work_dir, cwd=workspace)
    log = next(work_dir.glob('*/*.log')).read_text()
    replayed = [int(n) for n in re.findall(
        r'MTKD-RL agent update \d+: replayed (\d+) batches', log)]
    # 240 images, batch 16: 15 batches per epoch; the first epoch is the
    # warm-up, whose batches are replayed as well
    assert replayed == reference_schedule(15, 4, 2) == [5, 4, 4, 2] * 2
