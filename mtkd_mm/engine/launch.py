"""What ``tools/train.py`` and ``tools/test.py`` share: argument parsing with
one-line errors, config loading, checkpoint checks and CPU distributed set-up.

Bad input stops the tool with one line naming the file, option or config
key (exit status 2); ``--debug`` or ``MTKD_MM_DEBUG=1`` shows the traceback
instead. Nothing here is specific to mmdet, mmseg or mmpretrain.
"""
import argparse
import fcntl
import gc
import os
import os.path as osp
import socket
import sys
import zipfile
from contextlib import contextmanager

import torch
import torch.distributed as torch_dist
from mmengine.config import DictAction
from mmengine.model import is_model_wrapper

from mtkd_mm.checkpoint_fit import misfit, state_dict_of
from mtkd_mm.checkpoint_safety import why_unloadable
from mtkd_mm.config_refs import read_config
from mtkd_mm.engine.data_errors import explain_data_error
from mtkd_mm.engine.distiller_of import distiller_of
from mtkd_mm.errors import INPUT_ERRORS, CheckpointError, missing_type
from mtkd_mm.packages import import_scope


class ToolError(Exception):
    """An input error reported as one line by :func:`run_tool`."""


class ToolArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line: ``prog: error: msg``."""

    def error(self, message):
        self.exit(2, f'{self.prog}: error: {message}\n')


class CfgOptionsAction(DictAction):
    """``--cfg-options key=value ...`` that rejects what it cannot parse."""

    def __call__(self, parser, namespace, values, option_string=None):
        for item in values:
            key, sep, val = item.partition('=')
            if not sep or not key:
                raise argparse.ArgumentError(
                    self, f"'{item}' is not of the form key=value")
            if (val.count('[') != val.count(']')
                    or val.count('(') != val.count(')')):
                raise argparse.ArgumentError(
                    self, f"'{item}': unbalanced brackets in the value")
        super().__call__(parser, namespace, values, option_string)


def add_common_args(parser):
    """Options every tool has: ``--cfg-options``, ``--launcher``, local rank."""
    parser.add_argument(
        '--cfg-options', nargs='+', action=CfgOptionsAction, default={},
        help='override config keys, e.g. train_cfg.max_iters=100 '
        "model.backbone.depth=50 'key=[a,b]' (quote lists with spaces)")
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    # torch >= 2.0 launchers pass --local-rank, older ones --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument(
        '--debug', action='store_true',
        help='show the traceback of a bad-input error (or MTKD_MM_DEBUG=1)')


def run_tool(main):
    """Call ``main()``; bad input (:class:`ToolError`, a build error of the
    distiller, a task package that fails to import) becomes one line on
    stderr and exit status 2, unless ``--debug`` or ``MTKD_MM_DEBUG=1``."""
    debug = '--debug' in sys.argv or os.environ.get('MTKD_MM_DEBUG') == '1'
    try:
        main()
    except (ToolError, *INPUT_ERRORS) as error:
        if debug:
            raise
        prog = osp.basename(sys.argv[0])
        sys.stderr.write(f'{prog}: error: {error}\n')
        sys.exit(2)


def run_loop(cfg, loop):
    """Call ``loop()`` (``runner.train``, ``runner.test``); a data file
    missing on disk or unreadable becomes a :class:`ToolError` naming it."""
    try:
        return loop()
    except Exception as error:
        reason = explain_data_error(error, cfg)
        if reason is None:
            raise
        raise ToolError(reason) from error


def load_config(path, cfg_options):
    """Read a config file (or ``mmdet::path.py``) and apply ``--cfg-options``."""
    if '::' not in path and not osp.isfile(path):
        raise ToolError(f"config file '{path}' does not exist")
    try:
        cfg = read_config(path)
    except (FileNotFoundError, SyntaxError, ImportError, AssertionError,
            ValueError) as error:
        raise ToolError(f"config '{path}' cannot be read: {error}") from error
    try:
        cfg.merge_from_dict(cfg_options)
    except Exception as error:
        raise ToolError(
            f'--cfg-options {cfg_options} cannot be applied to {path}: '
            f'{error!r}') from error
    return cfg


def check_checkpoint(path, option):
    """Fail with one line unless ``path`` is a readable torch checkpoint;
    return it.

    The safe loader reads it (``weights_only=True``: a malicious file runs
    no code); a zip checkpoint is memory-mapped, so a large one is not read
    twice.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ToolError(f'{option}: a checkpoint path is needed, got '
                        f'{path!r}')
    path = os.fspath(path)
    if osp.isdir(path):
        raise ToolError(f"{option}: '{path}' is a directory, not a "
                        'checkpoint file')
    if not osp.isfile(path):
        raise ToolError(f"{option}: checkpoint '{path}' does not exist")
    try:
        return torch.load(path, map_location='cpu', weights_only=True,
                          mmap=zipfile.is_zipfile(path))
    except Exception as error:
        raise ToolError(
            f"{option}: checkpoint '{path}' cannot be loaded: "
            f'{why_unloadable(path, error)}') from error


def check_fits(runner, checkpoint, path, option):
    """Fail with one line unless the loaded ``checkpoint`` holds exactly
    the weights of the runner's model (MMEngine would load what matches
    and go on with random weights for the rest)."""
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    try:
        reason = misfit(model, state_dict_of(checkpoint, path))
    except CheckpointError as error:
        reason = f'cannot be used: {error.reason}'
    if reason:
        raise ToolError(f"{option} '{path}' {reason}")


def latest_checkpoint(work_dir):
    """The checkpoint that ``WORK_DIR/last_checkpoint`` names, None if the
    work dir has none; one line if it names nothing or a missing file."""
    record = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(record):
        return None
    with open(record) as f:
        path = f.read().strip()
    if not path:
        raise ToolError(f"--resume: '{record}' is empty; name the checkpoint"
                        ': --resume CKPT')
    if not osp.isfile(path):
        raise ToolError(f"--resume: '{record}' names '{path}', which does "
                        'not exist; name another: --resume CKPT')
    return path


def set_work_dir(cfg, work_dir, config_path):
    """``--work-dir`` wins, then the config's, then ``./work_dirs/<name>``;
    it must be a directory or not exist yet."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        name = osp.splitext(osp.basename(config_path.split('::')[-1]))[0]
        cfg.work_dir = osp.join('./work_dirs', name)
    if osp.exists(cfg.work_dir) and not osp.isdir(cfg.work_dir):
        raise ToolError(f"work dir '{cfg.work_dir}' is a file, not a "
                        'directory')


@contextmanager
def work_dir_lock(work_dir):
    """Hold ``WORK_DIR/.lock`` within it (on rank 0): a second run on the
    same work dir meanwhile is refused with one line. The kernel releases
    the lock when a process ends, so a crashed run leaves none behind."""
    if int(os.environ.get('RANK', 0)) != 0:
        yield
        return
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, '.lock'), 'a+') as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.seek(0)
            owner = lock.read().strip() or 'another process'
            raise ToolError(f"work dir '{work_dir}' is in use by another run"
                            f' ({owner}); wait for it or give --work-dir')
        lock.truncate(0)
        lock.write(f'pid {os.getpid()} on {socket.gethostname()}')
        lock.flush()
        yield


def setup_launcher(cfg, launcher, local_rank):
    """Record the launcher; without CUDA, run DDP over ``gloo`` on the CPU.

    On GPU machines this only sets ``cfg.launcher`` (as mmdet's tools do).
    Without CUDA, MMEngine's ``init_dist`` would call ``torch.cuda`` and its
    default wrapper would pass ``device_ids``: the process group is created
    here with ``gloo`` (the runner then skips ``init_dist``) and the model is
    wrapped by :class:`~mtkd_mm.engine.CPUDistributedDataParallel`.
    """
    os.environ.setdefault('LOCAL_RANK', str(local_rank))
    cfg.launcher = launcher
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise ToolError(
            f"--launcher {launcher} without CUDA is not supported; use "
            "'pytorch' (tools/dist_train.sh) for multi-process CPU runs")
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    # The same options as the runner's default GPU wrapper.
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['type'] = 'mtkd_mm.CPUDistributedDataParallel'
    cfg.model_wrapper_cfg = wrapper


def finish_distributed():
    """End a multi-process run together, once the caller has released its
    runner: collect the released model, whose DDP reducer holds the process
    group, then wait for every rank and destroy the group. A gloo group that
    a live reducer still holds at interpreter exit aborts a rank now and
    then (``terminate called without an active exception``)."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        gc.collect()
        torch_dist.barrier()
        torch_dist.destroy_process_group()


def check_learners(runner):
    """A distiller with learners (the MTKD-RL agent, …) needs the
    ``LearnerUpdateHook`` among the runner's: without it they would never
    learn, silently."""
    model = distiller_of(runner)
    learners = getattr(model, 'learners', dict)()
    if learners and not any(
            type(h).__name__ == 'LearnerUpdateHook' for h in runner.hooks):
        parts = ', '.join(f'model.{name} ({type(part).__name__})'
                          for name, part in learners.items())
        raise ToolError(
            f'{parts} learns only through LearnerUpdateHook, which the '
            "config lacks: add custom_hooks = [dict(type='mtkd_mm."
            "LearnerUpdateHook')] (see configs/mtkd_rl/)")


def build_runner(cfg):
    """Build the runner the config asks for (``runner_type``) or MMEngine's."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    import_scope(cfg.get('default_scope'), 'default_scope')
    try:
        if 'runner_type' in cfg:
            return RUNNERS.build(cfg)
        return Runner.from_cfg(cfg)
    except KeyError as error:
        if missing_type(error) is None:
            raise
        raise ToolError(missing_type(error)) from error
