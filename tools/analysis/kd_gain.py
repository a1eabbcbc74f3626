"""KD-gain benchmark: does multi-teacher distillation make a student better?

For each task, on the generated shapes data (``data/kd_gain``):

1. the data is made once: every teacher trains on all training images, the
   student on a small fixed subset; all share one validation set;
2. the teachers (stronger: deeper or wider, trained longer on more data,
   different from each other) are trained once and cached;
3. for every seed, the plain student and the student distilled by every
   method start from the same initial weights (saved once per seed) and
   see the same data in the same order (``randomness.seed``);
4. one JSON file and one Markdown table: each teacher's metric, each
   method's mean ± std over the seeds, its gain over the plain student
   (paired by seed) and whether that gain is clear: larger than twice the
   larger of the two seed spreads (std), and, in its own column, larger
   than twice the spread of the paired gains. A run with ``--methods``
   adds its rows to the task's table (same seeds), under the commands that
   made it. The JSON also names the machine of the last command
   (``machine.py``: CPU, threads, library versions; each run's and each
   teacher's record names its own) and the digest of the task's data
   (``make_shapes.data_digest``): two machines' figures are comparable
   where both agree.

Usage::

    python tools/analysis/kd_gain.py [--tasks classification ...]
        [--methods plain AVER ...] [--seeds 0 1 2]
        [--work-dir work_dirs/kd_gain] [--jobs 1] [--teacher-precision bf16]

The setting (configs/kd_gain/): teachers of the student's family, deeper
(ResNet-34) or wider, trained on all 960 training images; a quarter-width
ResNet-18 student with labels for the first 120 images and a short
schedule. The distillation terms are the project's defaults (α = 1, a
FeatureMSE term with β = 5) with the papers' T = 4 for classification and
T = 1 for detection and segmentation, where T = 4 made the student worse
(measured on seed 0 with AVER; the distill configs' headers give the
figures). Segmentation runs on shape-only data (random colours per
instance) for 400 iterations: on the colour-coded data a pixel's colour
gives its class and the student alone reached its teachers (its config's
header has the figures). Nothing else was tuned.

The default run is the original list: the plain student and AVER, EBKD,
CA-MKD, AEKD, MTKD-RL (surrogate, dynamic, REINFORCE). MMKD, RLKD,
LookAheadTrust (ours) and the ablations run when named with ``--methods``
(their rows join the table).

Finished runs are kept (``result.json`` beside each run's config): running
the command again trains only what is missing or whose config changed. A
change of code alone is not seen: after changing a method's code, delete
its runs (``WORK_DIR/<task>/seed*/<method>``).
Every run's config is written beside its logs, so one run is repeated with
``python tools/train.py WORK_DIR/<task>/seed<S>/<method>/config.py``.
"""
import argparse
import functools
import hashlib
import json
import shlex
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import mtkd_mm  # noqa: F401  (quiets pkg_resources' notice before mmengine)
from mmengine.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
from make_shapes import data_digest, make_shapes  # noqa: E402
from print_metric import last_value  # noqa: E402
from seeded_runs import (BENCHMARK_THREADS, REPO, Progress,  # noqa: E402
                         benchmark_machine, save_initial_weights, summarise,
                         train)
from seeded_runs import log as _log  # noqa: E402
NUM_TRAIN, NUM_VAL, STUDENT_IMAGES, IMG_SIZE, DATA_SEED = 960, 120, 120, 128, 1


class Task(NamedTuple):
    """One task of the benchmark: its configs (under configs/kd_gain/),
    the validation metric that the table reports and its data."""
    metric: str
    teachers: dict  # teacher name -> config
    student: str
    distill: str
    domain: str = 'clean'  # of tools/data/make_shapes.py


TASKS = {
    'classification': Task(
        metric='accuracy/top1',
        teachers={
            'resnet34': 'classification_teacher_resnet34.py',
            'resnet18_wide': 'classification_teacher_resnet18_wide.py'},
        student='classification_student.py',
        distill='classification_distill.py'),
    'detection': Task(
        metric='coco/bbox_mAP',
        teachers={
            'r34': 'detection_teacher_r34.py',
            'r18': 'detection_teacher_r18.py'},
        student='detection_student.py',
        distill='detection_distill.py'),
    'one_stage_detection': Task(
        metric='coco/bbox_mAP',
        teachers={
            'r34': 'one_stage_teacher_r34.py',
            'r18': 'one_stage_teacher_r18.py'},
        student='one_stage_student.py',
        distill='one_stage_distill.py'),
    'segmentation': Task(
        metric='mIoU',
        teachers={
            'r34': 'segmentation_teacher_r34.py',
            'r18': 'segmentation_teacher_r18.py'},
        student='segmentation_student.py',
        distill='segmentation_distill.py',
        domain='shape_only'),
}

LEARNER_HOOK = "dict(type='mtkd_mm.LearnerUpdateHook')"
MTKD_RL = "type='MTKDRL', warmup_iters=20, update_interval=20"
# RLKD's temperature: the task's fixed T in a warm-up of 20 iterations,
# then a PPO update after every batch; one reward scale for the whole run
# (a constant scale leaves the actor's normalised advantages unchanged)
RLKD = ("type='RLKDTemperature', by_epoch=False, warmup=20, rl_every=1, "
        'reward_stages=[], '
        'warmup_temperature={{_base_.model.temperature}}')
TRUST = "type='LookAheadTrust'"
# method -> (weighting arguments, custom hooks[, temperature arguments]) as
# config text; None: plain
METHODS = {
    'plain': None,
    'AVER': ("type='AVER'", ''),
    'EBKD': ("type='EBKD'", ''),
    'CA-MKD': ("type='CAMKD'", ''),
    'AEKD': ("type='AEKD'", ''),
    'MTKD-RL': (MTKD_RL, LEARNER_HOOK),
    'MTKD-RL dynamic': (f"{MTKD_RL}, fusion='dynamic'", LEARNER_HOOK),
    'MTKD-RL REINFORCE': (f"{MTKD_RL}, policy='reinforce'", LEARNER_HOOK),
    'MMKD': ("type='MMKD', batch_size={{_base_.train_dataloader.batch_size}}",
             LEARNER_HOOK),
    'RLKD (AVER)': ("type='AVER'", LEARNER_HOOK, RLKD),
    'RLKD (MTKD-RL)': (MTKD_RL, LEARNER_HOOK, RLKD),
    'RLKD (AVER) per image': ("type='AVER'", LEARNER_HOOK,
                              f"{RLKD}, per='image'"),
    'RLKD (AVER) t_max 2': ("type='AVER'", LEARNER_HOOK,
                            f'{RLKD}, t_max=2.0'),
    'LookAheadTrust': (TRUST, LEARNER_HOOK),
    'LookAheadTrust raw state': (f'{TRUST}, normalise_state=False',
                                 LEARNER_HOOK),
    'LookAheadTrust per-image credit': (f'{TRUST}, credit_neighbourhood=0.0',
                                        LEARNER_HOOK),
    'LookAheadTrust surrogate': (
        f"{TRUST}, policy='surrogate', credit_neighbourhood=0.0",
        LEARNER_HOOK),
    'LookAheadTrust REINFORCE': (
        f"{TRUST}, policy='reinforce', credit_neighbourhood=0.0",
        LEARNER_HOOK),
    'LookAheadTrust REINFORCE reference reward': (
        f"{TRUST}, policy='reinforce', reward='reference', "
        'credit_neighbourhood=0.0', LEARNER_HOOK),
    'LookAheadTrust embeddings': (f"{TRUST}, policy_input='embeddings'",
                                  LEARNER_HOOK),
    'LookAheadTrust soft': (f'{TRUST}, uniform_share=0.3', LEARNER_HOOK),
}
# run only when named: the methods added later and the ablations (one T
# per image differs from RLKD (AVER) only where an image has several
# points; t_max 2 centres the agent's T on the T = 1 of detection and
# segmentation, where its default 10 keeps the median T in [2.7, 7.3]);
# LookAheadTrust (ours) and its ablations of reward, state, policy and what
# the policy observes
ON_REQUEST = ('MMKD', 'RLKD (AVER)', 'RLKD (MTKD-RL)',
              'RLKD (AVER) per image', 'RLKD (AVER) t_max 2',
              *(m for m in METHODS if m.startswith('LookAheadTrust')))


def log(message):
    _log('kd_gain', message)


def config_path(name):
    return REPO / 'configs' / 'kd_gain' / name


def data_root(domain):
    """``data/kd_gain`` for the clean domain, else ``data/kd_gain_<domain>``
    (the task configs' ``data_root``)."""
    return Path('data/kd_gain' + ('' if domain == 'clean' else f'_{domain}'))


def make_data(domain):
    """The shapes data of ``domain``, once, and the student's subset of the
    training images in each task's format."""
    root = data_root(domain)
    if (root / 'meta.json').exists():
        return
    log(f'making {root} ({NUM_TRAIN} train / {NUM_VAL} val images)')
    make_shapes(root, NUM_TRAIN, NUM_VAL, IMG_SIZE, DATA_SEED, domain)
    labels = (root / 'cls_labels' / 'train.txt').read_text().splitlines()
    (root / 'cls_labels' / 'train_student.txt').write_text(
        '\n'.join(labels[:STUDENT_IMAGES]) + '\n')
    coco = json.loads(
        (root / 'annotations' / 'instances_train.json').read_text())
    coco['images'] = sorted(coco['images'],
                            key=lambda i: i['file_name'])[:STUDENT_IMAGES]
    kept = {image['id'] for image in coco['images']}
    coco['annotations'] = [a for a in coco['annotations']
                           if a['image_id'] in kept]
    (root / 'annotations' / 'instances_train_student.json').write_text(
        json.dumps(coco))
    (root / 'seg_labels' / 'train_student.txt').write_text('\n'.join(
        Path(line.split()[0]).stem
        for line in labels[:STUDENT_IMAGES]) + '\n')


def configs_digest(pattern):
    """Changes when any config under configs/kd_gain/ matching ``pattern``
    does (they inherit from each other)."""
    paths = sorted((REPO / 'configs' / 'kd_gain').glob(pattern))
    return hashlib.sha256(b''.join(p.read_bytes()
                                   for p in paths)).hexdigest()[:16]


def trained_teachers(name, task, work_dir, this_machine):
    """{teacher: (checkpoint, metric)}, training those not cached (their
    record names ``this_machine``)."""
    result = {}
    for teacher, config in task.teachers.items():
        out = work_dir / name / 'teachers'
        checkpoint, record = out / f'{teacher}.pth', out / f'{teacher}.json'
        key = configs_digest(f'{name}_teacher_*')
        if record.exists() and checkpoint.exists() and json.loads(
                record.read_text())['config_digest'] == key:
            metric = json.loads(record.read_text())['metric']
            log(f'{name}: teacher {teacher} cached ({task.metric} {metric})')
        else:
            log(f'{name}: training teacher {teacher} ({config})')
            start = time.time()
            run_dir = out / teacher
            train(config_path(config), run_dir)
            last = sorted(run_dir.glob('iter_*.pth'),
                          key=lambda p: int(p.stem.split('_')[1]))[-1]
            checkpoint.write_bytes(last.read_bytes())
            metric = last_value(run_dir, task.metric)
            record.write_text(json.dumps(
                dict(metric=metric, config_digest=key,
                     machine=this_machine)))
            log(f'{name}: teacher {teacher}: {task.metric} {metric} '
                f'({time.time() - start:.0f} s)')
        result[teacher] = (checkpoint.resolve(), metric)
    return result


def finished_run(run_dir, config):
    """The metric of a run finished before with the same config, or None."""
    result = run_dir / 'result.json'
    if result.exists():
        record = json.loads(result.read_text())
        if record['config'] == config:
            return record['metric']
    return None


@functools.lru_cache(maxsize=None)
def resolved_digest(path):
    """Changes when the config at ``path`` or anything it inherits does."""
    text = Config.fromfile(str(path)).pretty_text
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_config(task, method, teachers, init, seed, teacher_precision='fp32'):
    """The config text of one run: the student or the distiller, starting
    from ``init``, with this seed (and the distiller's
    ``teacher_precision``); its first line names the digest of the config
    it inherits, resolved, so that a finished run is trained again when
    that changes."""
    base = task.student if METHODS[method] is None else task.distill
    lines = [f'# configs/kd_gain/{base}: {resolved_digest(config_path(base))}',
             f'randomness = dict(seed={seed})']
    if METHODS[method] is None:
        lines.insert(0, f"_base_ = '{config_path(task.student)}'")
        lines.append(f"model = dict(init_cfg=dict(type='Pretrained', "
                     f"checkpoint='{init}'))")
        return '\n'.join(lines) + '\n'
    weighting, hooks, *temperature = METHODS[method]
    lines.insert(0, f"_base_ = '{config_path(task.distill)}'")
    teacher_list = ''.join(
        f"        dict(name='{teacher}', config='mtkd_mm::kd_gain/"
        f"{task.teachers[teacher]}',\n             checkpoint='{checkpoint}'),"
        '\n' for teacher, (checkpoint, _) in teachers.items())
    lines.append(
        'model = dict(\n'
        f"    student=dict(init_cfg=dict(type='Pretrained', "
        f"checkpoint='{init}')),\n"
        f'    teachers=[\n{teacher_list}    ],\n'
        f'    weighting=dict(_delete_=True, {weighting})' +
        ''.join(f',\n    temperature=dict(_delete_=True, {t})'
                for t in temperature) +
        (f",\n    teacher_precision='{teacher_precision}'"
         if teacher_precision != 'fp32' else '') + ')')
    if hooks:
        lines.append(f'custom_hooks = [{hooks}]')
    return '\n'.join(lines) + '\n'


def kept_runs(summary):
    """{seed: metric} of a row kept from an earlier run (JSON keys are
    strings), to summarise it again against this run's plain student."""
    return {int(seed): value for seed, value in summary['runs'].items()}


def markdown(results):
    lines = []
    for name, task in results['tasks'].items():
        lines += [
            f"### {name}: {task['metric']} on {NUM_VAL} validation images, "
            f"seeds {', '.join(map(str, task['seeds']))}", '',
            *(f'`{command}`' for command in task['commands']), '',
            '| model | mean ± std | gain over plain (paired) | clear gain '
            '| clear paired gain |', '| --- | --- | --- | --- | --- |'
        ]
        d = 3 if task['metric'].startswith('coco/') else 2  # mAP in [0, 1]
        for teacher, metric in task['teachers'].items():
            lines.append(f'| teacher {teacher} | {metric:.{d}f} | | | |')
        for method, s in task['methods'].items():
            gain = (f"{s['gain']:+.{d}f} ± {s['gain_std']:.{d}f}"
                    if 'gain' in s else '')
            clear = ' | '.join(
                ('yes' if s[key] else 'no') if key in s else ''
                for key in ('clear', 'clear_paired'))
            lines.append(f"| {method} | {s['mean']:.{d}f} ± {s['std']:.{d}f}"
                         f' | {gain} | {clear} |')
        lines += ['', *against_aver(task['methods'], d), '']
    return '\n'.join(lines)


def against_aver(methods, digits):
    """Lines: each weighting minus AVER, paired by seed, and whether its
    mean is below AVER's by more than the spread of the differences."""
    if 'AVER' not in methods:
        return []
    aver = methods['AVER']['runs']
    lines = []
    for method, s in methods.items():
        seeds = sorted(set(s['runs']) & set(aver), key=int)
        if method in ('plain', 'AVER') or len(seeds) < 2:
            continue
        diffs = [s['runs'][seed] - aver[seed] for seed in seeds]
        mean, std = statistics.mean(diffs), statistics.stdev(diffs)
        lines.append(
            f'- {method} minus AVER, per seed: '
            + ', '.join(f'{x:+.{digits}f}' for x in diffs)
            + f' (mean {mean:+.{digits}f}, std {std:.{digits}f}): '
            + ('below AVER by more than the spread' if mean < -std else
               'not below AVER by more than the spread'))
    return lines


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--tasks', nargs='+', choices=list(TASKS),
                        default=list(TASKS))
    parser.add_argument('--methods', nargs='+', choices=list(METHODS),
                        default=[m for m in METHODS if m not in ON_REQUEST])
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--work-dir', type=Path,
                        default=Path('work_dirs/kd_gain'))
    parser.add_argument(
        '--teacher-precision', choices=['fp32', 'bf16', 'fp16'],
        default='fp32', help="the distillers' model.teacher_precision; "
        "not fp32: each method's row is named '<method>, <precision> "
        "teachers' (the plain student's is shared)")
    parser.add_argument('--jobs', type=int, default=1,
                        help='trainings run at once, each with '
                        f'{BENCHMARK_THREADS} threads (a machine with '
                        f'{BENCHMARK_THREADS} × JOBS cores)')
    return parser.parse_args()


def main():
    args = parse_args()
    methods = ['plain'] + [m for m in args.methods if m != 'plain']
    precision = args.teacher_precision
    rows = {m: m if m == 'plain' or precision == 'fp32' else
            f'{m}, {precision} teachers' for m in methods}
    for domain in {TASKS[name].domain for name in args.tasks}:
        make_data(domain)
    out = args.work_dir / 'kd_gain.json'
    this_machine = benchmark_machine()
    results = json.loads(out.read_text()) if out.exists() else {'tasks': {}}
    for task in results['tasks'].values():  # written before 'commands'
        if 'command' in task:
            task['commands'] = [task.pop('command')]
    for name in args.tasks:
        task = TASKS[name]
        teachers = trained_teachers(name, task, args.work_dir,
                                    this_machine)
        jobs, runs = [], {}
        for seed in args.seeds:
            # named by the student config's digest: a changed student
            # gets new initial weights
            student = configs_digest(task.student)
            init = (args.work_dir / name / f'seed{seed}' /
                    f'init_{student}.pth')
            save_initial_weights(config_path(task.student), seed, init)
            for method, row in rows.items():
                run_dir = init.parent / row.replace(', ', '_').replace(
                    ' ', '_')
                config = run_config(task, method, teachers, init.resolve(),
                                    seed, precision)
                done = finished_run(run_dir, config)
                if done is None:
                    jobs.append((seed, row, run_dir, config))
                else:
                    runs.setdefault(row, {})[seed] = done
        log(f'{name}: {len(jobs)} runs to train, '
            f'{sum(map(len, runs.values()))} finished before')
        progress = Progress('kd_gain', len(jobs))

        def one(job):
            seed, method, run_dir, config = job
            start = time.time()
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / 'config.py').write_text(config)
            train(run_dir / 'config.py', run_dir)
            metric = last_value(run_dir, task.metric)
            (run_dir / 'result.json').write_text(json.dumps(
                dict(config=config, metric=metric, machine=this_machine)))
            runs.setdefault(method, {})[seed] = metric
            progress.finished(
                f'{name} seed {seed} {method}: {task.metric} '
                f'{runs[method][seed]:.4g} ({time.time() - start:.0f} s)')

        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(one, jobs))
        plain = runs['plain']
        command = shlex.join(['python', *sys.argv])
        before = results['tasks'].get(name, {})
        if before.get('seeds') != args.seeds:
            before = {}
        results['tasks'][name] = dict(
            commands=[c for c in before.get('commands', []) if c != command]
            + [command],
            metric=task.metric, seeds=args.seeds,
            teachers={t: m for t, (_, m) in teachers.items()},
            machine=this_machine, threads_per_run=BENCHMARK_THREADS,
            data=data_digest(data_root(task.domain)),
            methods={**{m: summarise(kept_runs(b), plain)
                        for m, b in before.get('methods', {}).items()},
                     **{r: summarise(runs[r], plain)
                        for r in rows.values()}})
        out.write_text(json.dumps(results, indent=2))
    table = markdown(results)
    (args.work_dir / 'kd_gain.md').write_text(table)
    print(table)


if __name__ == '__main__':
    main()
