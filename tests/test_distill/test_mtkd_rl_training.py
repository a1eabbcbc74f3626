"""MTKD-RL with the real Runner on the shapes classifier, through the
standard tools: under ``dist_train.sh`` (2 CPU ranks, gloo) the students and
the agents stay bitwise identical through several agent updates, and a run
stopped right after an agent update and resumed with ``--resume`` (torch's
default ``weights_only=True``) ends with the same student and agent as an
uninterrupted one. The teacher weights of every logged iteration reach
TensorBoard as well as the JSON log."""
import ast
import json
import re

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import \
    EventAccumulator

import mtkd_mm  # noqa: F401  (allow-lists the runner's checkpoint contents)
from tests.conftest import REPO, run

RL_CLS = REPO / 'configs' / 'mtkd_rl' / 'resnet18_narrow_shapes.py'
TEACHER = 'mtkd_mm::shapes/resnet18_narrow_shapes.py'


@pytest.fixture
def rl_config(workspace, base_runs):
    """The MTKD-RL shapes config with shapes-trained teachers, a short
    warm-up, an agent update every 5 iterations, a check of the agent
    across ranks every 5 iterations, and a TensorBoard backend."""
    base = base_runs('resnet18_narrow_shapes')
    path = workspace / 'rl_cls.py'
    path.write_text(
        f"_base_ = '{RL_CLS}'\n"
        'model = dict(\n'
        '    weighting=dict(warmup_iters=2),\n'
        '    teachers=[\n'
        f"        dict(name='resnet_a', config='{TEACHER}',\n"
        f"             checkpoint='{base / 'iter_200.pth'}'),\n"
        f"        dict(name='resnet_b', config='{TEACHER}',\n"
        f"             checkpoint='{base / 'iter_100.pth'}')])\n"
        "custom_hooks = [\n"
        "    dict(type='mtkd_mm.MTKDRLAgentHook', update_interval=5),\n"
        "    dict(type='mtkd_mm.RankConsistencyHook', interval=5),\n"
        "    dict(type='mtkd_mm.RankConsistencyHook', interval=5,\n"
        "         with_buffers=True, prefixes=['weighting.'])]\n"
        'train_dataloader = dict(batch_size=8)\n'
        "default_hooks = dict(checkpoint=dict(interval=10),"
        " logger=dict(interval=5))\n"
        'train_cfg = dict(max_iters=20, val_interval=1000)\n'
        "visualizer = dict(vis_backends=[dict(type='LocalVisBackend'),\n"
        "                                dict(type='TensorboardVisBackend')])\n")
    return path


def tensorboard_scalars(work_dir):
    """{tag: {step: value}} from a run's TensorBoard event files."""
    events = EventAccumulator(str(next(work_dir.glob('*/vis_data'))))
    events.Reload()
    return {
        tag: {e.step: e.value for e in events.Scalars(tag)}
        for tag in events.Tags()['scalars']
    }


@pytest.mark.slow
def test_agents_identical_across_two_cpu_ranks(workspace, rl_config):
    work_dir = workspace / 'dist'
    proc = run(['bash', REPO / 'tools' / 'dist_train.sh', rl_config, '2',
                '--work-dir', work_dir], cwd=workspace,
               env={'PORT': '29613'})
    log = next(work_dir.glob('*/*.log')).read_text()
    # each rank replays its own 5 batches per update (gradients averaged
    # over ranks), not the 10 of both ranks
    updates = re.findall(r'MTKD-RL agent update \d+: replayed (\d+)', log)
    assert updates == ['5'] * 4, proc.stdout[-3000:]
    digests = [ast.literal_eval(line.split('rank: ')[1])
               for line in log.splitlines()
               if 'model digests per rank' in line]
    # iters 5, 10, 15, 20 and the end; the whole model's parameters, then
    # the agent's parameters and buffers
    assert len(digests) == 10
    for per_rank in digests:
        assert len(per_rank) == 2 and per_rank[0] == per_rank[1]
    agent = digests[1::2]
    assert agent[0][0] != agent[-1][0], 'the agent learnt between updates'


@pytest.mark.slow
def test_resume_after_agent_update_equals_uninterrupted(workspace,
                                                        rl_config):
    whole, part = workspace / 'whole', workspace / 'part'
    train = ['python', REPO / 'tools' / 'train.py', rl_config]
    run([*train, '--work-dir', whole], cwd=workspace)
    run([*train, '--work-dir', part,
         '--cfg-options', 'train_cfg.max_iters=10'], cwd=workspace)
    run([*train, '--work-dir', part, '--resume', part / 'iter_10.pth'],
        cwd=workspace)
    uninterrupted = torch.load(whole / 'iter_20.pth')
    resumed = torch.load(part / 'iter_20.pth')
    for name, value in uninterrupted['state_dict'].items():
        if name.startswith(('student.', 'weighting.', 'connectors.')):
            assert torch.equal(resumed['state_dict'][name], value), name
    agent = [k for k in uninterrupted['state_dict'] if 'weighting.agent' in k]
    assert agent, 'the agent is part of the checkpoint'
    saved = resumed['mtkd_rl_agent']
    assert saved['updates'] == uninterrupted['mtkd_rl_agent']['updates'] == 4

    # the same run's teacher weights, in TensorBoard and in the JSON log
    logged = [json.loads(line) for line in next(
        whole.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    board = tensorboard_scalars(whole)
    for kind in ('logit', 'feature'):
        for teacher in ('resnet_a', 'resnet_b'):
            tag = f'distill.w_{kind}.{teacher}'
            from_json = {r['step']: r[tag] for r in logged if tag in r}
            assert sorted(from_json) == [5, 10, 15, 20], tag
            assert board[tag] == pytest.approx(from_json, rel=1e-6), tag
