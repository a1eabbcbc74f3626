"""Fixtures shared by the test suite: generated shapes data and tool runs."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def load_tool_module(relative_path):
    """Import a script under ``tools/`` (not a package) as a module."""
    path = REPO / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(cmd, cwd, timeout=900, env=None, check=True):
    """Run a command with the repo prepended to PYTHONPATH (after
    ``env['PYTHONPATH']`` if given); show its output on failure.

    ``cmd[0] == 'python'`` is replaced by this interpreter.
    """
    if cmd[0] == 'python':
        cmd = [sys.executable, *cmd[1:]]
    env = dict(env or {})
    paths = (env.pop('PYTHONPATH', None), str(REPO),
             os.environ.get('PYTHONPATH'))
    full_env = dict(os.environ, **env,
                    PYTHONPATH=os.pathsep.join(p for p in paths if p))
    full_env['PATH'] = f'{Path(sys.executable).parent}:{full_env["PATH"]}'
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=full_env, timeout=timeout,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and proc.returncode != 0:
        pytest.fail(f'{cmd} exited {proc.returncode}:\n{proc.stdout[-6000:]}')
    return proc


def run_in_process(tool, *args, cwd):
    """Run ``tools/<tool>.py`` with these arguments in this process (no
    interpreter start-up), from ``cwd``."""
    module = load_tool_module(f'tools/{tool}.py')
    old_argv, old_cwd = sys.argv, os.getcwd()
    sys.argv = [f'{tool}.py', *map(str, args)]
    os.chdir(cwd)
    try:
        module.main()
    finally:
        sys.argv = old_argv
        os.chdir(old_cwd)


def last_scalars(work_dir, key):
    """The last logged record holding ``key``: training and validation
    scalars (``<ts>/vis_data/scalars.json``) or a test run's metrics
    (``<ts>/<ts>.json``)."""
    files = sorted(Path(work_dir).glob('*/vis_data/scalars.json')) + sorted(
        Path(work_dir).glob('*/*.json'))
    records = [
        json.loads(line) for f in files for line in f.read_text().splitlines()
    ]
    found = [r for r in records if key in r]
    assert found, f'{key} never logged under {work_dir}'
    return found[-1]


@pytest.fixture(scope='session')
def shapes_root(tmp_path_factory):
    """A shapes dataset shared by the whole session (128 px)."""
    out = tmp_path_factory.mktemp('shapes')
    make_shapes = load_tool_module('tools/data/make_shapes.py')
    make_shapes.make_shapes(
        out, num_train=240, num_val=60, img_size=128, seed=0)
    return out


@pytest.fixture(scope='session')
def base_runs(tmp_path_factory, shapes_root):
    """Train a shapes base config once per session, on first request.

    ``base_runs(name)`` returns the work dir of
    ``configs/shapes/<name>.py`` trained for its full schedule (200 iters,
    checkpoints at 100 and 200); later tests use these checkpoints as
    teachers of different strength.
    """
    root = tmp_path_factory.mktemp('base_runs')
    (root / 'data').mkdir()
    (root / 'data' / 'shapes').symlink_to(shapes_root)
    done = {}

    def get(name):
        if name not in done:
            work_dir = root / name
            run(['python', REPO / 'tools' / 'train.py',
                 REPO / 'configs' / 'shapes' / f'{name}.py',
                 '--work-dir', work_dir], cwd=root)
            done[name] = work_dir
        return done[name]

    return get


@pytest.fixture
def workspace(tmp_path, shapes_root):
    """A fresh working directory whose ``data/shapes`` is the shapes data,
    where the configs' relative ``data_root`` finds it."""
    (tmp_path / 'data').mkdir()
    (tmp_path / 'data' / 'shapes').symlink_to(shapes_root)
    return tmp_path


@pytest.fixture
def teacher_ckpts(tmp_path):
    """Two checkpoints of randomly initialised shapes classifiers, teachers
    for configs/baselines/aver/resnet18_narrow_shapes.py."""
    from tests.test_distill.helpers import save_random_teacher
    config = REPO / 'configs' / 'shapes' / 'resnet18_narrow_shapes.py'
    return [save_random_teacher(config, tmp_path / f't{i}.pth')
            for i in range(2)]
