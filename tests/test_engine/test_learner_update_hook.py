"""LearnerUpdateHook with the real Runner, through the standard tools, on
the project's learners: the MTKD-RL agent (SGD, replaying stored
experience, a baseline buffer), MMKD (Adam, a look-ahead of the student on
the current batch), the RLKD temperature (PPO of an actor and a critic),
LookAheadTrust (Adam, stored credit) and, under DDP, the toy learner of
``tests/toy_learner.py`` (Adam, a buffer).

- Under ``dist_train.sh`` (2 CPU ranks, gloo) the students and the learners
  stay bitwise identical through several updates, each rank replaying its
  own batches.
- A run stopped right after an update and resumed with ``--resume`` (torch's
  default ``weights_only=True``) ends with the same student and learner as
  an uninterrupted one; the teacher weights of every logged iteration reach
  TensorBoard as well as the JSON log; ``tools/test.py`` evaluates the
  distiller's checkpoint.
- In an epoch-based loop the schedule is the MTKD-RL reference's
  (winycg/MTKD-RL ``train_loops.py``): an update after each batch whose
  index in the epoch is a non-zero multiple of the interval, one over what
  is left at the epoch's end; the warm-up epoch's experience is learnt
  from. MMKD's is its reference's (Rorozhl/MMKD ``train_meta.py``): a meta
  step after the batches 0, 5, 10, … and the epoch's last, once each,
  whatever its quiz batch.
- An update's INFO line comes at the first update, then once per
  ``log_interval`` iterations, counting the updates in between.
"""
import ast
import json
import re
from types import SimpleNamespace

import pytest
import torch
from mmengine.runner import EpochBasedTrainLoop
from tensorboard.backend.event_processing.event_accumulator import \
    EventAccumulator

import mtkd_mm  # noqa: F401  (allow-lists the runner's checkpoint contents)
from mtkd_mm.engine.hooks.learner_update_hook import LearnerUpdateHook
from mtkd_mm.weightings import MMKD
from tests.conftest import REPO, run, run_in_process

RL_CLS = REPO / 'configs' / 'mtkd_rl' / 'resnet18_narrow_shapes.py'
TEACHER = 'mtkd_mm::shapes/resnet18_narrow_shapes.py'
# learner -> (the distiller's part, its config text)
LEARNERS = {
    'MTKDRL': ('weighting', 'weighting=dict(warmup_iters=2, '
               'update_interval=5)'),
    'MMKD': ('weighting', "weighting=dict(_delete_=True, type='MMKD', "
             'batch_size=8, update_interval=5)'),
    'ToyLearnedWeighting': ('weighting', (
        "weighting=dict(_delete_=True, type='ToyLearnedWeighting',"
        ' update_interval=5)')),
    'LookAheadTrust': ('weighting', (
        "weighting=dict(_delete_=True, type='LookAheadTrust',"
        ' update_interval=5)')),
    # quiz batches from a hard buffer of 16 images, full after 2 batches
    'MMKD_hard': ('weighting', (
        "weighting=dict(_delete_=True, type='MMKD', batch_size=8,"
        " update_interval=5, quiz='hard', hard_buffer_size=16)")),
    # AVER weights; a PPO update per stored batch, 5 stored per update
    'RLKDTemperature': ('temperature', (
        "weighting=dict(_delete_=True, type='AVER'),\n"
        "    temperature=dict(type='RLKDTemperature', by_epoch=False, "
        'warmup=0, rl_every=1, reward_stages=[], update_interval=5, '
        'buffer_size=5)')),
}
UPDATE_LINE = r'(\w+) \((\w+)\) update \d+: replayed (\d+) batches'
# batches per update and rank: the stored experience since the last update,
# or MMKD's quiz batch
REPLAYED = {'MTKDRL': '5', 'MMKD': '1', 'ToyLearnedWeighting': '5',
            'RLKDTemperature': '5', 'LookAheadTrust': '5'}


def rank_digests(log):
    """Per logged check, the model digests of each rank."""
    return [ast.literal_eval(line.split('rank: ')[1])
            for line in log.splitlines()
            if 'model digests per rank' in line]


def write_learner_config(workspace, base_runs, learner):
    """The MTKD-RL shapes config with shapes-trained teachers, the learner
    (a key of ``LEARNERS``) updated every 5 iterations, a check of the
    learner across ranks every 5 iterations, and a TensorBoard backend."""
    base = base_runs('resnet18_narrow_shapes')
    part, text = LEARNERS[learner]
    path = workspace / f'{learner}.py'
    path.write_text(
        f"_base_ = '{RL_CLS}'\n"
        "custom_imports = dict(imports=['tests.toy_learner'])\n"
        'model = dict(\n'
        f'    {text},\n'
        '    teachers=[\n'
        f"        dict(name='resnet_a', config='{TEACHER}',\n"
        f"             checkpoint='{base / 'iter_200.pth'}'),\n"
        f"        dict(name='resnet_b', config='{TEACHER}',\n"
        f"             checkpoint='{base / 'iter_100.pth'}')])\n"
        "custom_hooks = [\n"
        "    dict(type='mtkd_mm.LearnerUpdateHook', log_interval=1),\n"
        "    dict(type='mtkd_mm.RankConsistencyHook', interval=5),\n"
        "    dict(type='mtkd_mm.RankConsistencyHook', interval=5,\n"
        f"         with_buffers=True, prefixes=['{part}.'])]\n"
        'train_dataloader = dict(batch_size=8)\n'
        "default_hooks = dict(checkpoint=dict(interval=10),"
        " logger=dict(interval=5))\n"
        'train_cfg = dict(max_iters=20, val_interval=1000)\n'
        'visualizer = dict(vis_backends=[\n'
        "    dict(type='LocalVisBackend'),\n"
        "    dict(type='TensorboardVisBackend')])\n")
    return path


REAL_LEARNERS = ['MMKD', 'MTKDRL', 'RLKDTemperature', 'LookAheadTrust']


def tensorboard_scalars(work_dir):
    """{tag: {step: value}} from a run's TensorBoard event files."""
    events = EventAccumulator(str(next(work_dir.glob('*/vis_data'))))
    events.Reload()
    return {
        tag: {e.step: e.value for e in events.Scalars(tag)}
        for tag in events.Tags()['scalars']
    }


@pytest.mark.slow
@pytest.mark.parametrize('learner', REAL_LEARNERS + ['ToyLearnedWeighting'])
def test_learners_identical_across_two_cpu_ranks(workspace, base_runs,
                                                 learner):
    config = write_learner_config(workspace, base_runs, learner)
    work_dir = workspace / 'dist'
    proc = run(['bash', REPO / 'tools' / 'dist_train.sh', config, '2',
                '--work-dir', work_dir], cwd=workspace,
               env={'PORT': '29613'})
    log = next(work_dir.glob('*/*.log')).read_text()
    # each rank replays its own batches per update (gradients averaged
    # over ranks), not those of both ranks
    updates = re.findall(UPDATE_LINE, log)
    part = LEARNERS[learner][0]
    assert updates == [(part, learner, REPLAYED[learner])] * 4, (
        proc.stdout[-3000:])
    digests = rank_digests(log)
    # iters 5, 10, 15, 20 and the end; the whole model's parameters, then
    # the learner's parameters and buffers
    assert len(digests) == 10
    for per_rank in digests:
        assert len(per_rank) == 2 and per_rank[0] == per_rank[1]
    learned = digests[1::2]
    assert learned[0][0] != learned[-1][0], 'the learner learnt'


@pytest.mark.slow
def test_mmkd_hard_quiz_across_two_cpu_ranks(workspace, base_runs):
    """MMKD's quiz batches from each rank's own hard buffer: every meta step
    has a quiz batch, and the networks stay identical across ranks."""
    config = write_learner_config(workspace, base_runs, 'MMKD_hard')
    work_dir = workspace / 'dist'
    proc = run(['bash', REPO / 'tools' / 'dist_train.sh', config, '2',
                '--work-dir', work_dir], cwd=workspace,
               env={'PORT': '29614'})
    log = next(work_dir.glob('*/*.log')).read_text()
    assert re.findall(UPDATE_LINE, log) == [('weighting', 'MMKD', '1')] * 4, (
        proc.stdout[-3000:])
    digests = rank_digests(log)
    assert len(digests) == 10
    for per_rank in digests:
        assert len(per_rank) == 2 and per_rank[0] == per_rank[1]
    assert digests[1][0] != digests[-1][0], 'the networks learnt'


@pytest.mark.slow
@pytest.mark.parametrize('learner', REAL_LEARNERS)
def test_resume_after_update_equals_uninterrupted(workspace, base_runs,
                                                  learner):
    """(The toy learner's buffer and Adam state are covered by MTKD-RL's
    baseline buffer and MMKD's Adam.)"""
    config = write_learner_config(workspace, base_runs, learner)
    name = LEARNERS[learner][0]
    whole, part = workspace / 'whole', workspace / 'part'
    run_in_process('train', config, '--work-dir', whole, cwd=workspace)
    run_in_process('train', config, '--work-dir', part, '--cfg-options',
                   'train_cfg.max_iters=10', cwd=workspace)
    run_in_process('train', config, '--work-dir', part, '--resume',
                   part / 'iter_10.pth', cwd=workspace)
    uninterrupted = torch.load(whole / 'iter_20.pth', weights_only=True)
    resumed = torch.load(part / 'iter_20.pth', weights_only=True)
    for key, value in uninterrupted['state_dict'].items():
        if key.startswith(('student.', f'{name}.', 'connectors.')):
            assert torch.equal(resumed['state_dict'][key], value), key
    learned = [k for k in uninterrupted['state_dict']
               if k.startswith(f'{name}.')]
    assert learned, 'the learner is part of the checkpoint'
    saved = resumed['learners'][name]
    assert saved['updates'] == 4
    assert saved['updates'] == uninterrupted['learners'][name]['updates']
    assert str(saved['optim_wrapper']) == str(
        uninterrupted['learners'][name]['optim_wrapper'])
    # tools/test.py on the distiller's checkpoint: nothing learns there
    run_in_process('test', config, whole / 'iter_20.pth', '--work-dir',
                   workspace / 'test', cwd=workspace)

    # the same run's teacher weights, in TensorBoard and in the JSON log
    logged = [json.loads(line) for line in next(
        whole.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    board = tensorboard_scalars(whole)
    tags = [f'distill.w_{kind}.{teacher}' for kind in ('logit', 'feature')
            for teacher in ('resnet_a', 'resnet_b')]
    if name == 'temperature':
        tags += ['distill.temperature_mean', 'distill.temperature_std']
    for tag in tags + [f'{name}.update_loss']:
        from_json = {r['step']: r[tag] for r in logged if tag in r}
        assert sorted(from_json) == [5, 10, 15, 20], tag
        assert board[tag] == pytest.approx(from_json, rel=1e-6), tag


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
        f"_base_ = '{RL_CLS}'\n"
        'model = dict(\n'
        '    weighting=dict(warmup_iters=0, warmup_epochs=1,'
        ' update_interval=4),\n'
        '    teachers=[\n'
        f"        dict(name='a', config='{TEACHER}', checkpoint=None),\n"
        f"        dict(name='b', config='{TEACHER}', checkpoint=None)])\n"
        'train_dataloader = dict(batch_size=16, sampler=dict(\n'
        "    _delete_=True, type='DefaultSampler', shuffle=True))\n"
        "train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop',\n"
        '                 max_epochs=2, val_interval=100)\n'
        "custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook',"
        ' log_interval=1)]\n')
    work_dir = workspace / 'work'
    run_in_process('train', config, '--work-dir', work_dir, cwd=workspace)
    log = next(work_dir.glob('*/*.log')).read_text()
    replayed = [int(n) for _, _, n in re.findall(UPDATE_LINE, log)]
    # 240 images, batch 16: 15 batches per epoch; the first epoch is the
    # warm-up, whose batches are replayed as well
    assert replayed == reference_schedule(15, 4, 2) == [5, 4, 4, 2] * 2


def meta_step_batches(quiz, batches_per_epoch, epochs=2):
    """(epoch, batch index) of the student step that each MMKD meta step
    follows, with the hook's methods called as MMEngine's
    ``EpochBasedTrainLoop`` calls them (the meta step itself stubbed)."""
    weighting = MMKD(batch_size=2, quiz=quiz, hard_buffer_size=4)
    weighting._hard = torch.tensor([True, False])
    trained, meta_steps = [], []

    def learn(optim_wrapper, entries, reduce_gradients=None):
        meta_steps.append(trained[-1])
        return [0.0]

    weighting.learn = learn
    hook = LearnerUpdateHook()
    hook.learners = lambda runner: {'weighting': weighting}
    hook.optim_wrappers['weighting'] = None
    hook.updates['weighting'] = 0
    hook.update_seconds['weighting'] = 0.0
    hook.unlogged['weighting'] = [None, 0, 0]
    runner = SimpleNamespace(
        train_loop=EpochBasedTrainLoop.__new__(EpochBasedTrainLoop), iter=0,
        message_hub=SimpleNamespace(update_scalar=lambda *args: None),
        logger=SimpleNamespace(info=lambda line: None))
    batch = dict(inputs=torch.zeros(2, 3, 4, 4), data_samples=[{}, {}])
    for epoch in range(epochs):
        for batch_idx in range(batches_per_epoch):
            trained.append((epoch, batch_idx))
            hook.after_train_iter(runner, batch_idx, batch)
            runner.iter += 1
        hook.after_train_epoch(runner)
    return meta_steps


@pytest.mark.parametrize('quiz', ['latest', 'hard'])
@pytest.mark.parametrize('batches_per_epoch', [12, 11])
def test_mmkd_epoch_schedule_follows_its_reference(quiz, batches_per_epoch):
    """Rorozhl/MMKD ``train_meta.py``: a meta step after batch ``idx`` when
    ``idx % meta_freq == 0 or idx == n_batch - 1``; 11 batches end on a
    multiple of 5 (one step there, not two)."""
    expected = [(epoch, idx) for epoch in range(2)
                for idx in range(batches_per_epoch)
                if idx % 5 == 0 or idx == batches_per_epoch - 1]
    assert meta_step_batches(quiz, batches_per_epoch) == expected


def test_update_lines_follow_the_log_interval():
    hook = LearnerUpdateHook(log_interval=10)
    lines = []
    runner = SimpleNamespace(logger=SimpleNamespace(info=lines.append))
    hook.updates['weighting'] = 0
    hook.unlogged['weighting'] = [None, 0, 0]
    for iteration in (4, 8, 12, 16, 20):
        hook.updates['weighting'] += 1
        hook._log(runner, 'weighting', runner, 2, iteration)
    assert lines == [
        'weighting (SimpleNamespace) update 1: replayed 2 batches at iter 4',
        'weighting (SimpleNamespace) updates 2-4: replayed 6 batches at '
        'iter 16']
    with pytest.raises(ValueError, match='log_interval'):
        LearnerUpdateHook(log_interval=0)
