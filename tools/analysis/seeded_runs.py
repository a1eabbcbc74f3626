"""What the benchmarks (kd_gain.py, tools/demo/domain_demo.py) share:
training runs in processes of their own, one initial student per seed, and
the summary over seeds of a method against the plain student."""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine  # noqa: E402


def log(tool, message):
    print(f'[{tool} {time.strftime("%H:%M:%S")}] {message}', flush=True)


# Every benchmark run trains with the same thread count and CPU kernels on
# any x86-64 machine with AVX2: the thread count and oneDNN's choice of
# kernels by the CPU's instructions each change the trained weights
# (kernel_reproducibility.py; torch's own kernels and MKL's did not, and are
# pinned as well).
BENCHMARK_THREADS = 2
PORTABLE_KERNELS = {'ONEDNN_MAX_CPU_ISA': 'AVX2',
                    'ATEN_CPU_CAPABILITY': 'avx2', 'MKL_CBWR': 'AVX2'}


def benchmark_machine():
    """``machine.machine()`` of this process, with ``run_env``: what its
    training runs add to their environment."""
    return machine() | dict(run_env=dict(
        OMP_NUM_THREADS=str(BENCHMARK_THREADS), **PORTABLE_KERNELS))


def repo_env(threads=BENCHMARK_THREADS, kernels=PORTABLE_KERNELS):
    """The environment with the repository on PYTHONPATH, ``threads`` as
    ``OMP_NUM_THREADS`` and the variables ``kernels``."""
    return dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS=str(threads),
                PYTHONPATH=os.pathsep.join(
                    p for p in (str(REPO), os.environ.get('PYTHONPATH'))
                    if p), **kernels)


def train(config, work_dir, options=(), threads=BENCHMARK_THREADS,
          echo=False, cwd=None, kernels=PORTABLE_KERNELS):
    """``tools/train.py CONFIG --work-dir WORK_DIR`` in a process of its own
    (environment: :func:`repo_env`), its output in ``WORK_DIR/output.txt``
    (with ``echo``, its progress lines also on the console), from the
    directory ``cwd`` (default: this one); exits with the log's tail on
    failure."""
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(REPO / 'tools' / 'train.py'), str(config),
           '--work-dir', str(work_dir)]
    if options:
        cmd += ['--cfg-options', *options]
    with open(work_dir / 'output.txt', 'w') as out:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                env=repo_env(threads, kernels), cwd=cwd)
        for line in proc.stdout:
            out.write(line)
            if echo and ('Iter(train)' in line or 'Iter(val)' in line):
                progress = line.split(' - mmengine - INFO - ')[-1]
                print('    ' + progress.rstrip()[:110], flush=True)
    if proc.wait() != 0:
        tail = (work_dir / 'output.txt').read_text()[-3000:]
        raise SystemExit(f'error: {" ".join(cmd)} exited {proc.returncode}:'
                         f'\n{tail}')


def save_initial_weights(config, seed, path):
    """The model of ``config`` as the runner builds and initialises it with
    ``seed``, saved to ``path`` once (``initial_weights.py``)."""
    path = Path(path)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(Path(__file__).with_name('initial_weights.py')),
           str(config), str(seed), str(path)]
    proc = subprocess.run(cmd, env=repo_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise SystemExit(f'error: {" ".join(cmd)} exited {proc.returncode}:'
                         f'\n{proc.stdout[-3000:]}')


def summarise(runs, plain=None):
    """``runs`` and ``plain``: {seed: metric}. Mean ± std over the seeds,
    the gain over the plain student paired by seed, and whether it is
    clear: larger than twice the larger of the two seed spreads
    (``clear``), or larger than twice the spread of the paired gains
    (``clear_paired``: the seeds' effect on both runs cancels out)."""
    values = [runs[s] for s in sorted(runs)]
    mean = statistics.mean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    summary = dict(runs=runs, mean=mean, std=std)
    if plain is not None and plain is not runs:
        gains = [runs[s] - plain[s] for s in sorted(runs) if s in plain]
        plain_std = statistics.stdev(plain.values()) if len(plain) > 1 else 0
        summary['gain'] = statistics.mean(gains)
        summary['gain_std'] = statistics.stdev(gains) if len(
            gains) > 1 else 0.0
        summary['clear'] = summary['gain'] > 2 * max(std, plain_std)
        summary['clear_paired'] = summary['gain'] > 2 * summary['gain_std']
    return summary


class Progress:
    """Counts finished runs of a known total and estimates the time left
    from the runs trained so far and the ``to_train`` of the total (default:
    all) that must be trained: a run found finished before costs nothing."""

    def __init__(self, tool, total, to_train=None):
        self.tool, self.total, self.done, self.trained = tool, total, 0, 0
        self.to_train = total if to_train is None else to_train
        self.start = time.time()

    def finished(self, message, cached=False):
        self.done += 1
        self.trained += not cached
        elapsed = time.time() - self.start
        left = elapsed / max(self.trained, 1) * (self.to_train - self.trained)
        log(self.tool, f'{message}; {self.done}/{self.total} runs, '
            f'ETA {left / 60:.1f} min')
