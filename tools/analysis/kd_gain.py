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
   larger of the two seed spreads (std).

Usage::

    python tools/analysis/kd_gain.py [--tasks classification ...]
        [--methods plain AVER ...] [--seeds 0 1 2]
        [--work-dir work_dirs/kd_gain] [--jobs 1]

Every run's config is written beside its logs, so one run is repeated with
``python tools/train.py WORK_DIR/<task>/seed<S>/<method>/config.py``.
"""
import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[2]
DATA_ROOT = Path('data/kd_gain')
NUM_TRAIN, NUM_VAL, STUDENT_IMAGES, IMG_SIZE, DATA_SEED = 960, 120, 120, 128, 1


class Task(NamedTuple):
    """One task of the benchmark: its configs (under configs/kd_gain/) and
    the validation metric that the table reports."""
    metric: str
    teachers: dict  # teacher name -> config
    student: str
    distill: str


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
            'r18_wide': 'detection_teacher_r18_wide.py'},
        student='detection_student.py',
        distill='detection_distill.py'),
    'segmentation': Task(
        metric='mIoU',
        teachers={
            'r34': 'segmentation_teacher_r34.py',
            'r18_wide': 'segmentation_teacher_r18_wide.py'},
        student='segmentation_student.py',
        distill='segmentation_distill.py'),
}

MTKD_RL_HOOK = "dict(type='mtkd_mm.MTKDRLAgentHook', update_interval=20)"
# method -> (weighting arguments, custom hooks) as config text; None: plain
METHODS = {
    'plain': None,
    'AVER': ("type='AVER'", ''),
    'EBKD': ("type='EBKD'", ''),
    'CA-MKD': ("type='CAMKD'", ''),
    'AEKD': ("type='AEKD'", ''),
    'MTKD-RL': ("type='MTKDRL', warmup_iters=20", MTKD_RL_HOOK),
    'MTKD-RL dynamic': ("type='MTKDRL', fusion='dynamic', warmup_iters=20",
                        MTKD_RL_HOOK),
    'MTKD-RL REINFORCE': (
        "type='MTKDRL', policy='reinforce', warmup_iters=20", MTKD_RL_HOOK),
}


def log(message):
    print(f'[kd_gain] {time.strftime("%H:%M:%S")} {message}', flush=True)


def config_path(name):
    return REPO / 'configs' / 'kd_gain' / name


def make_data():
    """The shapes data, once, and the student's subset of the training
    images in each task's format."""
    if (DATA_ROOT / 'meta.json').exists():
        return
    log(f'making {DATA_ROOT} ({NUM_TRAIN} train / {NUM_VAL} val images)')
    sys.path.insert(0, str(REPO / 'tools' / 'data'))
    from make_shapes import make_shapes
    make_shapes(DATA_ROOT, NUM_TRAIN, NUM_VAL, IMG_SIZE, DATA_SEED)
    labels = (DATA_ROOT / 'cls_labels' / 'train.txt').read_text().splitlines()
    (DATA_ROOT / 'cls_labels' / 'train_student.txt').write_text(
        '\n'.join(labels[:STUDENT_IMAGES]) + '\n')
    coco = json.loads(
        (DATA_ROOT / 'annotations' / 'instances_train.json').read_text())
    coco['images'] = sorted(coco['images'],
                            key=lambda i: i['file_name'])[:STUDENT_IMAGES]
    kept = {image['id'] for image in coco['images']}
    coco['annotations'] = [a for a in coco['annotations']
                           if a['image_id'] in kept]
    (DATA_ROOT / 'annotations' / 'instances_train_student.json').write_text(
        json.dumps(coco))
    (DATA_ROOT / 'seg_labels' / 'train_student.txt').write_text('\n'.join(
        Path(line.split()[0]).stem
        for line in labels[:STUDENT_IMAGES]) + '\n')


def train(config, work_dir, options=(), threads=None):
    """``tools/train.py`` in a process of its own; its log on failure."""
    work_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(REPO), env.get('PYTHONPATH')) if p)
    if threads:
        env['OMP_NUM_THREADS'] = str(threads)
    cmd = [sys.executable, str(REPO / 'tools' / 'train.py'), str(config),
           '--work-dir', str(work_dir)]
    if options:
        cmd += ['--cfg-options', *options]
    with open(work_dir / 'output.txt', 'w') as out:
        code = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT,
                               env=env)
    if code != 0:
        tail = (work_dir / 'output.txt').read_text()[-3000:]
        raise SystemExit(f'kd_gain.py: error: {" ".join(cmd)} exited {code}:'
                         f'\n{tail}')


def last_metric(work_dir, key):
    """The last value of ``key`` in the run's ``scalars.json``."""
    values = [
        json.loads(line).get(key)
        for scalars in sorted(work_dir.glob('*/vis_data/scalars.json'))
        for line in scalars.read_text().splitlines()
    ]
    values = [v for v in values if v is not None]
    if not values:
        raise SystemExit(f'kd_gain.py: error: {key} not logged in {work_dir}')
    return values[-1]


def teacher_configs_digest(name):
    """Changes when any teacher config of the task does (they inherit from
    each other)."""
    paths = sorted((REPO / 'configs' / 'kd_gain').glob(f'{name}_teacher_*'))
    return hashlib.sha256(b''.join(p.read_bytes()
                                   for p in paths)).hexdigest()[:16]


def trained_teachers(name, task, work_dir):
    """{teacher: (checkpoint, metric)}, training those not cached."""
    result = {}
    for teacher, config in task.teachers.items():
        out = work_dir / name / 'teachers'
        checkpoint, record = out / f'{teacher}.pth', out / f'{teacher}.json'
        key = teacher_configs_digest(name)
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
            metric = last_metric(run_dir, task.metric)
            record.write_text(json.dumps(
                dict(metric=metric, config_digest=key)))
            log(f'{name}: teacher {teacher}: {task.metric} {metric} '
                f'({time.time() - start:.0f} s)')
        result[teacher] = (checkpoint.resolve(), metric)
    return result


def initial_student(task, seed, path):
    """Save the student's initial weights for ``seed`` (built and
    initialised as the runner does) to ``path``."""
    if path.exists():
        return
    code = (
        'import sys, torch\n'
        'from mmengine.config import Config\n'
        'from mmengine.registry import MODELS, init_default_scope\n'
        'from mmengine.runner import set_random_seed\n'
        'import mtkd_mm\n'
        'cfg = Config.fromfile(sys.argv[1])\n'
        "init_default_scope(cfg.get('default_scope'))\n"
        'set_random_seed(int(sys.argv[2]))\n'
        'model = MODELS.build(cfg.model)\n'
        'model.init_weights()\n'
        "torch.save({'state_dict': model.state_dict()}, sys.argv[3])\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(REPO), os.environ.get('PYTHONPATH')) if p))
    subprocess.run([sys.executable, '-c', code,
                    str(config_path(task.student)), str(seed), str(path)],
                   check=True, env=env)


def run_config(task, method, teachers, init, seed):
    """The config text of one run: the student or the distiller, starting
    from ``init``, with this seed."""
    lines = [f"randomness = dict(seed={seed})"]
    if METHODS[method] is None:
        lines.insert(0, f"_base_ = '{config_path(task.student)}'")
        lines.append(f"model = dict(init_cfg=dict(type='Pretrained', "
                     f"checkpoint='{init}'))")
        return '\n'.join(lines) + '\n'
    weighting, hooks = METHODS[method]
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
        f'    weighting=dict(_delete_=True, {weighting}))')
    if hooks:
        lines.append(f'custom_hooks = [{hooks}]')
    return '\n'.join(lines) + '\n'


def summarise(runs, plain):
    """Mean ± std over seeds, the gain over plain paired by seed, and
    whether it exceeds twice the larger seed spread."""
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
    return summary


def markdown(results):
    lines = []
    for name, task in results['tasks'].items():
        lines += [
            f"### {name}: {task['metric']} on {NUM_VAL} validation images, "
            f"seeds {', '.join(map(str, task['seeds']))}", '',
            '| model | mean ± std | gain over plain (paired) | clear gain |',
            '| --- | --- | --- | --- |'
        ]
        for teacher, metric in task['teachers'].items():
            lines.append(f'| teacher {teacher} | {metric:.2f} | | |')
        for method, s in task['methods'].items():
            gain = (f"{s['gain']:+.2f} ± {s['gain_std']:.2f}"
                    if 'gain' in s else '')
            clear = ('yes' if s['clear'] else 'no') if 'clear' in s else ''
            lines.append(f"| {method} | {s['mean']:.2f} ± {s['std']:.2f} | "
                         f'{gain} | {clear} |')
        lines.append('')
    return '\n'.join(lines)


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--tasks', nargs='+', choices=list(TASKS),
                        default=list(TASKS))
    parser.add_argument('--methods', nargs='+', choices=list(METHODS),
                        default=list(METHODS))
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--work-dir', type=Path,
                        default=Path('work_dirs/kd_gain'))
    parser.add_argument('--jobs', type=int, default=1,
                        help='trainings run at once (a bigger machine)')
    return parser.parse_args()


def main():
    args = parse_args()
    methods = ['plain'] + [m for m in args.methods if m != 'plain']
    make_data()
    results = {'command': ' '.join(['python', *sys.argv]), 'tasks': {}}
    for name in args.tasks:
        task = TASKS[name]
        teachers = trained_teachers(name, task, args.work_dir)
        jobs = []
        for seed in args.seeds:
            init = args.work_dir / name / f'seed{seed}' / 'init.pth'
            initial_student(task, seed, init)
            for method in methods:
                run_dir = args.work_dir / name / f'seed{seed}' / method.replace(
                    ' ', '_')
                run_dir.mkdir(parents=True, exist_ok=True)
                (run_dir / 'config.py').write_text(
                    run_config(task, method, teachers, init.resolve(), seed))
                jobs.append((seed, method, run_dir))
        runs, start, done = {}, time.time(), []

        def one(job):
            seed, method, run_dir = job
            t0 = time.time()
            train(run_dir / 'config.py', run_dir,
                  threads=max(1, (os.cpu_count() or 1) // args.jobs))
            runs.setdefault(method, {})[seed] = last_metric(
                run_dir, task.metric)
            done.append(time.time() - t0)
            left = (time.time() - start) / len(done) * (len(jobs) - len(done))
            log(f'{name} seed {seed} {method}: {task.metric} '
                f'{runs[method][seed]:.2f} ({done[-1]:.0f} s); '
                f'{len(done)}/{len(jobs)} runs, ETA {left / 60:.1f} min')

        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(one, jobs))
        plain = runs['plain']
        results['tasks'][name] = dict(
            metric=task.metric, seeds=args.seeds,
            teachers={t: m for t, (_, m) in teachers.items()},
            methods={m: summarise(runs[m], plain) for m in methods})
    args.work_dir.mkdir(parents=True, exist_ok=True)
    (args.work_dir / 'kd_gain.json').write_text(
        json.dumps(results, indent=2))
    table = markdown(results)
    (args.work_dir / 'kd_gain.md').write_text(table)
    print(table)


if __name__ == '__main__':
    main()
