"""Resident memory of a training run at two iterations: does anything grow?

    python tools/analysis/memory_growth.py CONFIG [--iters 2000] \
        [--early 200] [--work-dir DIR] [--cfg-options k=v ...]

Trains CONFIG with the real Runner for ``--iters`` iterations (no
validation) and prints the process's resident set size after iteration
``--early`` and after the last one, their ratio, and one JSON line.
"""
import argparse
import json
import os

from mmengine.hooks import Hook

import mtkd_mm  # noqa: F401
from mtkd_mm.engine.launch import (CfgOptionsAction, build_runner,
                                   load_config)


def rss_mib():
    """Current resident set size of this process, MiB."""
    with open('/proc/self/statm') as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf('SC_PAGE_SIZE') / 2**20


class RssProbe(Hook):
    """Records the RSS after the chosen iterations."""

    def __init__(self, at):
        self.at = set(at)
        self.rss = {}

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 in self.at:
            self.rss[runner.iter + 1] = rss_mib()
            runner.logger.info(f'RSS after iter {runner.iter + 1}: '
                               f'{self.rss[runner.iter + 1]:.1f} MiB')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--iters', type=int, default=2000)
    parser.add_argument('--early', type=int, default=200)
    parser.add_argument('--work-dir', default='work_dirs/memory_growth')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        default={})
    args = parser.parse_args()
    cfg = load_config(args.config, args.cfg_options)
    cfg.work_dir = args.work_dir
    cfg.train_cfg.max_iters = args.iters
    cfg.train_cfg.val_interval = args.iters + 1
    cfg.default_hooks.checkpoint.interval = args.iters
    cfg.default_hooks.logger.interval = 100
    runner = build_runner(cfg)
    probe = RssProbe([args.early, args.iters])
    runner.register_hook(probe, priority='LOWEST')
    runner.train()
    early, late = probe.rss[args.early], probe.rss[args.iters]
    print(f'RSS after {args.early} iterations: {early:.1f} MiB')
    print(f'RSS after {args.iters} iterations: {late:.1f} MiB')
    print(f'ratio: {late / early:.4f}')
    print(json.dumps({'config': args.config, 'early_iter': args.early,
                      'late_iter': args.iters, 'rss_early_mib': early,
                      'rss_late_mib': late, 'ratio': late / early}))


if __name__ == '__main__':
    main()
