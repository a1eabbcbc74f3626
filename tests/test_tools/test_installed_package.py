"""``pip install .`` (not editable) into a fresh virtual environment, then,
from a directory that is not the repository, with the installed
``mtkd_mm/.mim/tools/train.py`` (what ``mim train mtkd_mm CONFIG`` runs):
a shapes config trained by its ``mtkd_mm::`` reference, and a downstream
project's own distillation config that inherits one of ours by
``_base_ = 'mtkd_mm::…'`` and replaces its teachers."""
import os
import shutil
import subprocess
import sys
import sysconfig

import pytest
from mmengine.config import Config

from tests.conftest import REPO


DOWNSTREAM_CONFIG = '''\
_base_ = 'mtkd_mm::mtkd_rl/resnet18_narrow_shapes.py'

teacher = 'mtkd_mm::shapes/resnet18_narrow_shapes.py'
model = dict(teachers=[
    dict(name='ours_a', config=teacher, checkpoint='out/iter_2.pth'),
    dict(name='ours_b', config=teacher, checkpoint='out/iter_2.pth'),
])
train_cfg = dict(max_iters=2, val_interval=2)
default_hooks = dict(checkpoint=dict(interval=2))
train_dataloader = dict(dataset=dict(data_root='{data}'))
val_dataloader = dict(dataset=dict(data_root='{data}'))
'''


def call(cmd, cwd):
    """Run without the repository on PYTHONPATH; fail with the output."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=900)
    if proc.returncode != 0:
        pytest.fail(f'{cmd} exited {proc.returncode}:\n{proc.stdout[-5000:]}')
    return proc.stdout


@pytest.mark.slow
def test_installed_package_trains_a_config_by_reference(tmp_path,
                                                        shapes_root):
    # The source as a clean checkout has it (build files stay out of REPO).
    source = tmp_path / 'source'
    tracked = subprocess.run(['git', 'ls-files', '-z'], cwd=REPO, check=True,
                             stdout=subprocess.PIPE).stdout.split(b'\0')
    for name in filter(None, (t.decode() for t in tracked)):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name, follow_symlinks=False)

    # A fresh venv that sees this one's packages (a plain path: the .pth
    # files there, the editable install of mtkd_mm among them, do not run).
    venv = tmp_path / 'venv'
    call([sys.executable, '-m', 'venv', venv], cwd=tmp_path)
    python = venv / 'bin' / 'python'
    site = call([python, '-c', 'import sysconfig; '
                 'print(sysconfig.get_paths()["purelib"])'], tmp_path).strip()
    with open(os.path.join(site, 'deps.pth'), 'w') as pth:
        pth.write(sysconfig.get_paths()['purelib'] + '\n')
    call([python, '-m', 'pip', '--isolated', 'install', '-q', '--no-deps',
          '--no-build-isolation', '--no-index', source], cwd=tmp_path)

    installed = call([python, '-c', 'import mtkd_mm; print(mtkd_mm.__file__)'],
                     tmp_path).strip().splitlines()[-1]
    assert installed.startswith(site), installed
    work = tmp_path / 'elsewhere'
    work.mkdir()
    call([python, os.path.join(site, 'mtkd_mm', '.mim', 'tools', 'train.py'),
          'mtkd_mm::shapes/resnet18_narrow_shapes.py', '--work-dir', 'out',
          '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
          'default_hooks.checkpoint.interval=2',
          f'train_dataloader.dataset.data_root={shapes_root}',
          f'val_dataloader.dataset.data_root={shapes_root}'], cwd=work)
    assert (work / 'out' / 'iter_2.pth').is_file()

    project = work / 'my_project'
    project.mkdir()
    (project / 'mtkd_rl_my_teachers.py').write_text(
        DOWNSTREAM_CONFIG.format(data=shapes_root))
    call([python, os.path.join(site, 'mtkd_mm', '.mim', 'tools', 'train.py'),
          'my_project/mtkd_rl_my_teachers.py', '--work-dir', 'distilled'],
         cwd=work)
    assert (work / 'distilled' / 'iter_2.pth').is_file()
    dumped = Config.fromfile(work / 'distilled' / 'mtkd_rl_my_teachers.py')
    assert dumped.model.weighting.type == 'MTKDRL'  # ours, inherited
    assert [t.name for t in dumped.model.teachers] == ['ours_a', 'ours_b']
