"""Evaluate a checkpoint with a config's test loop and metrics.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE.pkl] \
        [--show-dir DIR] [--cfg-options k=v ...]
    bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [options]
"""
import os.path as osp

import mtkd_mm  # noqa: F401  registers the mtkd_mm modules, safe checkpoints
from mtkd_mm.engine.launch import (ToolArgumentParser, ToolError,
                                   add_common_args, build_runner,
                                   check_checkpoint, check_fits,
                                   finish_distributed,
                                   load_config, run_loop, run_tool,
                                   set_work_dir, setup_launcher)


def parse_args(argv=None):
    parser = ToolArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the test log goes')
    parser.add_argument(
        '--out', help='dump the predictions to this pickle file (.pkl)')
    parser.add_argument(
        '--show-dir', help='draw the predictions into images in this dir')
    add_common_args(parser)
    return parser.parse_args(argv)


def add_dump_metric(cfg, out):
    """Append MMEngine's ``DumpResults`` to the test evaluator."""
    if not out.endswith(('.pkl', '.pickle')):
        raise ToolError(f"--out '{out}' must end with .pkl or .pickle")
    if osp.isdir(out):
        raise ToolError(f"--out '{out}' is a directory, not a file")
    if not osp.isdir(osp.dirname(osp.abspath(out))):
        raise ToolError(f"--out '{out}': its directory does not exist")
    dump = dict(type='mmengine.DumpResults', out_file_path=out)
    evaluator = cfg.test_evaluator
    if isinstance(evaluator, (list, tuple)):
        cfg.test_evaluator = [*evaluator, dump]
    elif 'metrics' in evaluator:
        evaluator.metrics = [*evaluator.metrics, dump]
    else:
        cfg.test_evaluator = [evaluator, dump]


def enable_drawing(cfg, show_dir):
    """Switch on the package's visualisation hook, writing into ``show_dir``.

    mmdet, mmseg and mmpretrain name the hook and its options differently.
    """
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        raise ToolError('--show-dir: the config has no '
                        'default_hooks.visualization hook')
    kind = hook['type'].split('.')[-1]
    if kind == 'DetVisualizationHook':
        hook.update(draw=True, test_out_dir=osp.abspath(show_dir))
    elif kind == 'SegVisualizationHook':
        hook.update(draw=True)
        cfg.visualizer.save_dir = show_dir
    elif kind == 'VisualizationHook':
        hook.update(enable=True, out_dir=show_dir)
    else:
        raise ToolError(f'--show-dir: unknown visualization hook {kind}')


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    checkpoint = check_checkpoint(args.checkpoint, 'checkpoint')
    set_work_dir(cfg, args.work_dir, args.config)
    cfg.load_from = args.checkpoint
    if args.out:
        add_dump_metric(cfg, args.out)
    if args.show_dir:
        enable_drawing(cfg, args.show_dir)
    setup_launcher(cfg, args.launcher, args.local_rank)
    runner = build_runner(cfg)
    check_fits(runner, checkpoint, args.checkpoint, 'checkpoint')
    del checkpoint
    run_loop(cfg, runner.test)
    del runner  # its DDP model holds the process group
    finish_distributed()


if __name__ == '__main__':
    run_tool(main)
