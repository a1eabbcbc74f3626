"""How well each student of a domain-demo run fits the images it trained
on, beside its metric on the union's validation set: is a method's lower
validation metric a worse fit or a larger gap (over-fitting)?

For every seed and method of ``WORK_DIR`` (tools/demo/domain_demo.py), the
run's last checkpoint is tested, with ``tools/test.py`` and the run's own
config, on the student's training images (the test pipeline: no
augmentation); its validation metric is the one in ``demo.json``. Prints a
Markdown table (mean ± std over the seeds, and the gap per seed) and writes
``WORK_DIR/train_fit.json``. For segmentation it also counts, per seed, the
classes the student misses on its own training images (IoU below
``MISSED_IOU`` %: it never learnt to predict them), from MMSeg's
per-class table in the test's log.

    python tools/analysis/train_fit.py work_dirs/demo_segmentation \
        --methods student aver ca_mkd look_ahead_trust --seeds 0 1 2 3 4
"""
import argparse
import copy
import json
import re
import statistics
import sys
from pathlib import Path

from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tools' / 'demo'))
from domain_demo import METHODS, TASKS, student_name  # noqa: E402
from seeded_runs import summarise  # noqa: E402
from test_each import test_each  # noqa: E402

MISSED_IOU = 5.0
# a row of MMSeg's per-class table: | class | IoU | Acc |
CLASS_ROW = re.compile(r'^\|\s*(\S.*?)\s*\|\s*([\d.]+|nan)\s*\|'
                       r'\s*(?:[\d.]+|nan)\s*\|$', re.MULTILINE)


def class_ious(log_text):
    """{class: IoU (%)} from the last per-class table MMSeg's IoUMetric
    wrote into ``log_text``; {} where there is none (other tasks)."""
    tables = log_text.split('per class results:')
    if len(tables) < 2:
        return {}
    return {name: float(iou)
            for name, iou in CLASS_ROW.findall(tables[-1])}


def on_training_images(cfg):
    """A copy of ``cfg`` (a run's dumped config) whose test split is its
    training split, each dataset in its test pipeline, scored by an
    evaluator of those images (COCO: the training split's file)."""
    cfg = copy.deepcopy(cfg)
    train = copy.deepcopy(cfg.train_dataloader.dataset)
    test = cfg.test_dataloader.dataset
    pairs = (zip(train.datasets, test.datasets)
             if train.type == 'ConcatDataset' else [(train, test)])
    for train_set, test_set in pairs:
        train_set.pipeline = test_set.pipeline
        train_set.pop('filter_cfg', None)
    cfg.test_dataloader.dataset = train
    if 'ann_file' in cfg.test_evaluator:
        cfg.test_evaluator.ann_file = train.data_root + train.ann_file
    return cfg


def last_test(out, checkpoint):
    """The newest test result in ``out`` made after ``checkpoint`` was
    written (a run trained again makes the earlier ones stale), or None."""
    tests = [t for t in sorted(out.glob('*/*.json'))
             if t.stat().st_mtime > checkpoint.stat().st_mtime]
    return tests[-1] if tests else None


def train_fit(work_dir, task, methods, seeds):
    """{method: {seed: {'metric': on its training images, 'missed':
    [classes below ``MISSED_IOU``] (segmentation)}}}, each run tested once
    (cached in the run's ``train_fit/``)."""
    runs, where = [], {}
    for method in methods:
        for seed in seeds:
            run = work_dir / f'seed{seed}' / method
            checkpoint, out = run / 'iter_200.pth', run / 'train_fit'
            dumped = sorted(run.glob('*/vis_data/config.py'))
            if not checkpoint.exists() or not dumped:
                raise SystemExit(
                    f'no finished run in {run}: run tools/demo/'
                    f'domain_demo.py with this seed and method first')
            where[method, seed] = out, checkpoint
            if last_test(out, checkpoint):
                continue
            out.mkdir(exist_ok=True)
            on_training_images(Config.fromfile(dumped[-1])).dump(
                out / 'config.py')
            runs.append([out / 'config.py', checkpoint, '--work-dir', out])
    if runs:
        test_each(runs)
    fit = {}
    for (method, seed), (out, checkpoint) in where.items():
        test = last_test(out, checkpoint)
        ious = class_ious(test.with_suffix('.log').read_text())
        fit.setdefault(method, {})[seed] = dict(
            metric=json.loads(test.read_text())[task.metric],
            missed=[name for name, iou in ious.items() if iou < MISSED_IOU])
    return fit


def mean_std(values, digits):
    summary = summarise(dict(enumerate(values)))
    return f"{summary['mean']:.{digits}f} ± {summary['std']:.{digits}f}"


def table(demo, fit, digits):
    """Markdown rows: per method, its metric on its training images and on
    the union's validation set (mean ± std), validation minus training per
    seed and (segmentation) the classes it missed per seed."""
    per_class = demo['task'] == 'segmentation'
    rows = ['| student | on its training images | on the validation union '
            '| validation minus training: mean; per seed |' +
            (f' classes below {MISSED_IOU:g} % IoU on its training images, '
             'per seed |' if per_class else ''),
            '| --- ' * (4 + per_class) + '|']
    for method, by_seed in fit.items():
        name = student_name(None if method == 'student' else method)
        val = demo['students'][name]['runs']
        train_values = [r['metric'] for r in by_seed.values()]
        val_values = [val[str(seed)] for seed in by_seed]
        gaps = [v - t for t, v in zip(train_values, val_values)]
        row = (f'| {name} | {mean_std(train_values, digits)} '
               f'| {mean_std(val_values, digits)} '
               f'| {statistics.mean(gaps):+.{digits}f}; '
               f"{', '.join(f'{g:+.{digits}f}' for g in gaps)} |")
        if per_class:
            row += ' ' + '; '.join(
                ', '.join(r['missed']) or 'none'
                for r in by_seed.values()) + ' |'
        rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir', type=Path,
                        help='a tools/demo/domain_demo.py work dir')
    parser.add_argument('--methods', nargs='+',
                        choices=['student', *METHODS],
                        default=['student', 'aver', 'look_ahead_trust'],
                        help="'student' (no distillation) and methods of "
                        'the demo')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    args = parser.parse_args()
    demo = json.loads((args.work_dir / 'demo.json').read_text())
    task = TASKS[demo['task']]
    fit = train_fit(args.work_dir.resolve(), task, args.methods, args.seeds)
    (args.work_dir / 'train_fit.json').write_text(json.dumps(fit, indent=2))
    print('\n'.join(table(demo, fit, task.digits)))


if __name__ == '__main__':
    main()
