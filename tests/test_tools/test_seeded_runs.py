"""The benchmarks' summary over seeds (tools/analysis/seeded_runs.py)."""
import pytest

from tests.conftest import REPO, load_tool_module

summarise = load_tool_module('tools/analysis/seeded_runs.py').summarise


def test_gain_is_paired_by_seed_and_clear_beyond_twice_the_spread():
    plain = {0: 70.0, 1: 74.0, 2: 72.0}   # std 2
    method = {0: 76.0, 1: 79.0, 2: 79.0}  # std sqrt(3)
    summary = summarise(method, plain)
    assert summary['mean'] == pytest.approx(78.0)
    assert summary['std'] == pytest.approx(3 ** 0.5)
    # per-seed gains 6, 5, 7
    assert summary['gain'] == pytest.approx(6.0)
    assert summary['gain_std'] == pytest.approx(1.0)
    assert summary['clear'] is True  # 6 > 2 * max(sqrt(3), 2)
    assert summary['clear_paired'] is True  # 6 > 2 * 1

    summary = summarise({0: 73.0, 1: 77.0, 2: 75.0}, plain)
    assert summary['gain'] == pytest.approx(3.0)
    assert summary['clear'] is False  # 3 < 2 * 2
    assert summary['clear_paired'] is True  # gains 3, 3, 3: no spread

    # gains 9, 1, 2: the seeds move the gain itself
    summary = summarise({0: 79.0, 1: 75.0, 2: 74.0}, plain)
    assert summary['gain'] == pytest.approx(4.0)
    assert summary['clear_paired'] is False  # 4 < 2 * std(9, 1, 2) = 8.7


def test_plain_student_has_no_gain():
    plain = {0: 70.0, 1: 74.0}
    summary = summarise(plain, plain)
    assert 'gain' not in summary and summary['mean'] == pytest.approx(72.0)


def test_benchmark_runs_pin_threads_and_kernels_and_repeat_to_the_bit(
        workspace):
    seeded_runs = load_tool_module('tools/analysis/seeded_runs.py')
    env = seeded_runs.repo_env()
    assert env['OMP_NUM_THREADS'] == '2'
    assert env['ONEDNN_MAX_CPU_ISA'] == 'AVX2'
    assert seeded_runs.benchmark_machine()['run_env'] == {
        'OMP_NUM_THREADS': '2', 'ONEDNN_MAX_CPU_ISA': 'AVX2',
        'ATEN_CPU_CAPABILITY': 'avx2', 'MKL_CBWR': 'AVX2'}
    kernels = load_tool_module('tools/analysis/kernel_reproducibility.py')
    config = REPO / 'configs' / 'shapes' / 'resnet18_narrow_shapes.py'
    options = ['train_cfg.max_iters=10', 'train_cfg.val_interval=11',
               'default_hooks.checkpoint.interval=10']
    digests = []
    for run in ('a', 'b'):
        seeded_runs.train(config, workspace / run, options, cwd=workspace)
        digests.append(kernels.final_weights(workspace / run, 10)[1])
    assert digests[0] == digests[1]


def test_the_eta_counts_only_the_runs_trained(monkeypatch, capsys):
    """Of 5 runs, 3 finished before and cost nothing: after one of them and
    one trained run of 60 s, the one run left to train takes 1 min (the
    runs finished before may come in any order)."""
    seeded_runs = load_tool_module('tools/analysis/seeded_runs.py')
    now = [0.0]
    monkeypatch.setattr(seeded_runs.time, 'time', lambda: now[0])
    progress = seeded_runs.Progress('test', 5, to_train=2)
    progress.finished('a', cached=True)
    now[0] = 60.0
    progress.finished('b')
    progress.finished('c', cached=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].endswith('b; 2/5 runs, ETA 1.0 min')
    assert lines[-1].endswith('c; 3/5 runs, ETA 1.0 min')
