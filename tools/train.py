"""Train a model (a distiller, or any mmdet / mmseg / mmpretrain config).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] \
        [--amp] [--auto-scale-lr] [--cfg-options k=v ...]
    bash tools/dist_train.sh CONFIG NUM_PROCS [options]
"""
import torch

import mtkd_mm  # noqa: F401  registers the mtkd_mm modules, safe checkpoints
from mtkd_mm.engine.launch import (ToolArgumentParser, ToolError,
                                   add_common_args, build_runner,
                                   check_checkpoint, check_fits,
                                   check_learners, finish_distributed,
                                   latest_checkpoint, load_config, run_loop,
                                   run_tool, set_work_dir, setup_launcher,
                                   work_dir_lock)


def parse_args(argv=None):
    parser = ToolArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--amp', action='store_true',
        help='automatic mixed precision (needs a GPU)')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the learning rate by the actual total batch size')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from CKPT, or without a value from the latest '
        'checkpoint in the work dir')
    add_common_args(parser)
    return parser.parse_args(argv)


def apply_args(cfg, args):
    """Turn the command-line options into config changes; return the
    checkpoint to resume from, loaded, if it is a local file."""
    set_work_dir(cfg, args.work_dir, args.config)
    if args.amp:
        if not torch.cuda.is_available():
            raise ToolError('--amp needs a GPU; this machine has no CUDA')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        scale = cfg.get('auto_scale_lr') or {}
        if 'base_batch_size' not in scale:
            raise ToolError(
                '--auto-scale-lr: the config has no '
                'auto_scale_lr.base_batch_size')
        cfg.auto_scale_lr = dict(scale, enable=True)
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = latest_checkpoint(cfg.work_dir)
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    use_atomic_checkpoint_writes(cfg)
    option = '--resume' if cfg.get('resume') else 'load_from'
    if cfg.get('load_from') and '://' not in str(cfg.load_from):
        checkpoint = check_checkpoint(cfg.load_from, option)
        return checkpoint if cfg.get('resume') else None
    return None


def use_atomic_checkpoint_writes(cfg):
    """Checkpoints and ``last_checkpoint`` are written atomically unless the
    config names another storage backend for them."""
    hook = cfg.get('default_hooks', {}).get('checkpoint')
    if hook is None or hook.get('backend_args') or hook.get(
            'file_client_args') or '://' in str(hook.get('out_dir') or ''):
        return
    hook['backend_args'] = dict(backend='mtkd_mm_atomic_local')


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    resume_from = apply_args(cfg, args)
    setup_launcher(cfg, args.launcher, args.local_rank)
    with work_dir_lock(cfg.work_dir):
        runner = build_runner(cfg)
        check_learners(runner)
        if resume_from is not None:
            check_fits(runner, resume_from, cfg.load_from, '--resume')
            del resume_from
        run_loop(cfg, runner.train)
        del runner  # its DDP model holds the process group
    finish_distributed()


if __name__ == '__main__':
    run_tool(main)
