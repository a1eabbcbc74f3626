"""Teachers from different domains, one student on their union: which
teacher does each weighting trust on which images, and does distillation
make the student better? Measured in one run.

    python tools/demo/domain_demo.py \
        [--task classification | detection | one_stage_detection |
                segmentation] \
        [--methods aver ca_mkd mtkd_rl look_ahead_trust] \
        [--student-images 30] [--seeds 0 1] [--work-dir work_dirs/demo] \
        [--cfg-options KEY=VALUE ...]

1. makes the shapes data in three domains (``clean``, ``dark`` and
   ``noisy``, 240 training and 60 validation images each) and the lists of
   the student's images (detection: COCO files of the union, under
   ``data/shapes_union``);
2. trains one teacher of the student's family (the shapes ResNet-18,
   Faster R-CNN, FCOS or DeepLabV3, 200 iterations) on all training images of
   each domain and tests it on each domain's validation images (once;
   cached in the work dir, by default ``work_dirs/demo`` for
   classification, else ``work_dirs/demo_<task>``);
3. for every seed, trains the student on the union of the first
   ``--student-images`` training images of each domain without
   distillation, then distils it with each method (configs/demo/; by
   default AVER, CA-MKD, MTKD-RL and LookAheadTrust; also MMKD, RLKD and
   the LookAheadTrust forms when named), all from the same initial
   weights and in the same data order (detection and segmentation: also
   tests the plain student on each domain). With the default 30 the
   teachers know more of their own domain than the student
   can learn from its labels (the *trust* variant: trusting the in-domain
   teacher pays); ``--student-images 240`` gives the student every image,
   where every teacher is weaker on the union than the plain student;
4. prints, and writes to ``WORK_DIR/demo.md`` and ``demo.json``: each
   teacher's metric (top-1, bbox mAP or mIoU) on each domain, each
   teacher's and each student's metric on the union's validation set (mean
   ± std over the seeds and the gain over the plain student, paired by
   seed), and the mean weight each teacher received on each domain's images
   over the last half of training (an image's weight is the one of all its
   points: RoIs, pixels; for MTKD-RL also the agent's own action,
   before its fusion with the fixed confidence- and divergence-aware
   weights; for LookAheadTrust also the share of images on which each
   teacher earns the highest look-ahead credit, and the share on which it
   earns it and is right); plots, for each method of the first seed, the
   mean weight per teacher on each domain's images over the iterations
   (``WORK_DIR/seed<first>/<method>/teacher_weights.png``; also in
   TensorBoard: ``tensorboard --logdir WORK_DIR``). ``demo.json`` also
   names the machine (``machine.py``: CPU, threads, library versions; the
   training runs' threads and kernels: ``seeded_runs.repo_env``) and each
   domain's data digest (``make_shapes.data_digest``): two machines'
   figures are comparable where both agree.
Every figure is read from the logs of this run; a run finished before
in the work dir with the same config and options is not trained again
(use a new work dir after changing the code).
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tools' / 'analysis'))
sys.path.insert(0, str(REPO / 'tools' / 'data'))
from make_shapes import data_digest  # noqa: E402
from print_metric import last_value  # noqa: E402
from seeded_runs import (Progress, benchmark_machine, log,  # noqa: E402
                         repo_env, save_initial_weights, summarise, train)

DOMAINS = {'clean': 0, 'dark': 1, 'noisy': 2}  # domain → its data seed
NUM_TRAIN, NUM_VAL = 240, 60
CONFIGS = REPO / 'configs' / 'demo'
DATA = REPO / 'data'
UNION = DATA / 'shapes_union' / 'annotations'  # the COCO files of the union


class Task(NamedTuple):
    """What the demo trains for one task, and how its tables name it."""
    metric: str  # logged by the evaluator
    name: str  # in the tables
    title: str  # the name at a sentence's start
    unit: str  # after the name in the tables' sentences
    key: str  # in file and JSON names
    digits: int  # in the tables
    teacher: str  # configs/shapes/<teacher>.py
    student: str  # configs/demo/<student>.py and <student>_<method>.py
    methods: tuple  # run by default


DEFAULT_METHODS = ('aver', 'ca_mkd', 'mtkd_rl', 'look_ahead_trust')
TASKS = {
    'classification': Task('accuracy/top1', 'top-1', 'Top-1', ' (%)', 'top1',
                           2, 'resnet18_narrow_shapes',
                           'resnet18_shapes_union', DEFAULT_METHODS),
    'detection': Task('coco/bbox_mAP', 'bbox mAP', 'Bbox mAP', '',
                      'bbox_mAP', 3, 'faster-rcnn_r18_fpn_narrow_shapes',
                      'faster-rcnn_shapes_union', DEFAULT_METHODS),
    'one_stage_detection': Task('coco/bbox_mAP', 'bbox mAP', 'Bbox mAP', '',
                                'bbox_mAP', 3, 'fcos_r18_fpn_narrow_shapes',
                                'fcos_shapes_union', DEFAULT_METHODS),
    'segmentation': Task('mIoU', 'mIoU', 'mIoU', ' (%)', 'mIoU', 2,
                         'deeplabv3_r18-d8_narrow_shapes',
                         'deeplabv3_shapes_union', DEFAULT_METHODS),
}
METHODS = {
    'aver': 'AVER',
    'ca_mkd': 'CA-MKD',
    'mtkd_rl': 'MTKD-RL',
    'mtkd_rl_reinforce': 'MTKD-RL, REINFORCE',
    'mmkd': 'MMKD',
    'rlkd': 'RLKD (AVER)',
    'look_ahead_trust': 'LookAheadTrust (ours)',
    'look_ahead_trust_embeddings': 'LookAheadTrust, embeddings',
    'look_ahead_trust_per_image': "LookAheadTrust, each image's own credit",
    'look_ahead_trust_logits': 'LookAheadTrust, logit term only',
    'look_ahead_trust_features': 'LookAheadTrust, feature term only',
    'look_ahead_trust_soft': 'LookAheadTrust, ε = 0.3 of 1/K',
    'look_ahead_trust_softer': 'LookAheadTrust, ε = 0.6 of 1/K',
    'look_ahead_trust_tempered': 'LookAheadTrust, λ_H = 0.5',
    'aver_feature_third': 'AVER, a third of the feature term',
    'look_ahead_trust_feature_third': 'LookAheadTrust, a third of the '
    'feature term',
    'aver_third': 'AVER, a third of both terms',
    'look_ahead_trust_third': 'LookAheadTrust, a third of both terms',
    'look_ahead_trust_state_and_embeddings': 'LookAheadTrust, state and '
    'embeddings',
    'look_ahead_trust_raw_state': 'LookAheadTrust, raw state',
    'look_ahead_trust_surrogate': 'LookAheadTrust, surrogate policy',
    'look_ahead_trust_reinforce': 'LookAheadTrust, REINFORCE policy',
    'look_ahead_trust_reinforce_reference': 'LookAheadTrust, REINFORCE, '
    'reference reward',
}

# what LookAheadTrust is measured against, besides the plain student
BASELINES = ('aver', 'ca_mkd', 'mtkd_rl', 'mmkd', 'rlkd')

# the weights in the table: applied, the MTKD-RL agent's own action, and
# (LookAheadTrust) the share of images on which each teacher has the
# highest look-ahead credit, and on which it has it and is right
WEIGHT_KINDS = (('logit', ''), ('agent_logit', ', agent alone'),
                ('best_credit', ", reward's best teacher"),
                ('best_credit_right', ", reward's best teacher, right"))
# the share of an image's points (the image, its sampled RoIs, positive
# priors or pixels) each teacher predicts right (TeacherWeightsByDomainHook's
# quantities in the demo configs)
ACCURACY = 'teacher_accuracy'


def step(message):
    log('demo', message)


def make_domains(student_images):
    """Each domain's data, and the lists of the student's training images:
    each domain's (classification, segmentation) and the union's COCO files
    (detection)."""
    for domain, seed in DOMAINS.items():
        out = DATA / f'shapes_{domain}'
        if not (out / 'meta.json').exists():
            step(f"shapes data, domain '{domain}' → {out}")
            subprocess.run([
                sys.executable, REPO / 'tools' / 'data' / 'make_shapes.py',
                '--out', out, '--num-train', str(NUM_TRAIN), '--num-val',
                str(NUM_VAL), '--img-size', '128', '--seed', str(seed),
                '--domain', domain
            ], check=True, stdout=subprocess.DEVNULL)
        labels = (out / 'cls_labels' / 'train.txt').read_text().splitlines()
        first = labels[:student_images]
        (out / 'cls_labels' / f'train_first{student_images}.txt').write_text(
            '\n'.join(first) + '\n')
        (out / 'seg_labels' / f'train_first{student_images}.txt').write_text(
            '\n'.join(Path(line.split()[0]).stem for line in first) + '\n')
    UNION.mkdir(parents=True, exist_ok=True)
    for split, first, name in (('train', None, 'train'), ('val', None, 'val'),
                               ('train', student_images,
                                f'train_first{student_images}')):
        (UNION / f'instances_{name}.json').write_text(
            json.dumps(union_coco(split, first)))


def union_coco(split, first=None):
    """The COCO file of the union of the domains' ``split`` (the ``first``
    images of each by name, or all): file names relative to ``data/``,
    image and annotation ids renumbered from 1."""
    images, annotations = [], []
    for domain in DOMAINS:
        coco = json.loads((DATA / f'shapes_{domain}' / 'annotations' /
                           f'instances_{split}.json').read_text())
        kept = sorted(coco['images'], key=lambda i: i['file_name'])[:first]
        ids = {}
        for image in kept:
            ids[image['id']] = len(images) + 1
            images.append(dict(
                image, id=ids[image['id']],
                file_name=f"shapes_{domain}/images/{split}/"
                f"{image['file_name']}"))
        annotations += [dict(a, image_id=ids[a['image_id']])
                        for a in coco['annotations'] if a['image_id'] in ids]
    annotations = [dict(a, id=i + 1) for i, a in enumerate(annotations)]
    return dict(coco, images=images, annotations=annotations)


def on_domain(task, domain, splits):
    """Config options that give ``splits`` (and their evaluators) the
    data of ``domain``."""
    root = f'data/shapes_{domain}/'
    options = [f'{split}_dataloader.dataset.data_root={root}'
               for split in splits]
    if task.metric.startswith('coco/'):
        options += [f'{split}_evaluator.ann_file={root}annotations/'
                    'instances_val.json' for split in splits
                    if split != 'train']
    return options


def student_subset(task, student_images):
    """Config options that give the student its images."""
    if task.metric.startswith('coco/'):
        return ['train_dataloader.dataset.ann_file=shapes_union/annotations/'
                f'instances_train_first{student_images}.json']
    labels = 'cls_labels' if task.key == 'top1' else 'seg_labels'
    return [f'train_dataloader.dataset.datasets.{i}.ann_file='
            f'{labels}/train_first{student_images}.txt'
            for i in range(len(DOMAINS))]


def metric_by_domain(task, work_dir, checkpoint):
    """{domain: the metric of ``checkpoint`` (a model of the teachers'
    config) on that domain's validation images}, by ``tools/test.py``;
    cached in ``work_dir``."""
    cache = work_dir / f'{task.key}_by_domain.json'
    if not cache.exists():
        step(f'testing {work_dir.name} on each domain')
        config = REPO / 'configs' / 'shapes' / f'{task.teacher}.py'
        runs = [[str(config), str(checkpoint), '--work-dir',
                 str(work_dir / f'test_on_{domain}'), '--cfg-options',
                 *on_domain(task, domain, ['test'])] for domain in DOMAINS]
        subprocess.run([
            sys.executable, REPO / 'tools' / 'analysis' / 'test_each.py',
            json.dumps(runs)
        ], check=True, stdout=subprocess.DEVNULL, env=repo_env(), cwd=REPO)
        metric = {}
        for domain in DOMAINS:
            log_file = sorted(
                (work_dir / f'test_on_{domain}').glob('*/*.json'))[-1]
            metric[domain] = json.loads(log_file.read_text())[task.metric]
        cache.write_text(json.dumps(metric, indent=2))
    return json.loads(cache.read_text())


def run_config(task, method, init, seed):
    """A run's config: the plain student (``method`` None) or a method's
    distiller, starting from the weights ``init``, data order ``seed``."""
    init_cfg = f"dict(type='Pretrained', checkpoint='{init}')"
    if method is None:
        base = f'{task.student}.py'
        model = f'model = dict(init_cfg={init_cfg})'
    else:
        base = f'{task.student}_{method}.py'
        model = f'model = dict(student=dict(init_cfg={init_cfg}))'
    return (f"_base_ = '{CONFIGS / base}'\n"
            f'randomness = dict(seed={seed})\n{model}\n')


class PlannedRun(NamedTuple):
    seed: int
    method: str  # None: the plain student
    name: str
    out: Path
    config: str
    options: list
    finished_before: bool


def student_name(method):
    """A run's row: the plain student (``method`` None) or a method's."""
    return ('student, no distillation' if method is None else
            f'student, {METHODS[method]}')


def planned_run(task, work, seed, method, subset, teacher_options):
    """A student run of the demo: the plain student (``method`` None) or a
    method's, from the seed's initial weights, and whether it finished
    before in ``work`` with the same config and options."""
    name = student_name(method)
    out = work / f'seed{seed}' / (method or 'student')
    config = run_config(task, method, out.parent / 'init.pth', seed)
    options = subset if method is None else subset + teacher_options
    record = out / 'run.txt'
    finished = (record.exists() and (out / 'iter_200.pth').exists() and
                record.read_text() == config + '\n'.join(options))
    return PlannedRun(seed, method, name, out, config, options, finished)


def mean_weights(work, methods, seeds):
    """{method: {domain: {kind: {teacher: mean over seeds}, 'samples'}}}."""
    result = {}
    for method in methods:
        per_seed = [json.loads((work / f'seed{s}' / method /
                                'teacher_weights_by_domain.json').read_text())
                    for s in seeds]
        result[method] = {
            domain: {
                kind: {t: statistics.mean(r[domain][kind][t]
                                          for r in per_seed)
                       for t in DOMAINS}
                for kind in [k for k, _ in WEIGHT_KINDS] + [ACCURACY]
                if all(kind in r[domain] for r in per_seed)
            } | {'samples': per_seed[0][domain]['samples']}
            for domain in per_seed[0]
        }
    return result


def margins(summaries, digits):
    """Lines: each LookAheadTrust form against the best of the plain
    student and the baselines run, on every seed."""
    rivals = {'the plain student': 'student, no distillation'} | {
        METHODS[m]: f'student, {METHODS[m]}' for m in BASELINES
        if f'student, {METHODS[m]}' in summaries}
    lines = []
    for row, s in summaries.items():
        if 'LookAheadTrust' not in row:
            continue
        margin = [value - max(summaries[r]['runs'][seed]
                              for r in rivals.values())
                  for seed, value in s['runs'].items()]
        lines.append(
            f"- {row.removeprefix('student, ')} minus the best of "
            f"{', '.join(rivals)}, per seed: "
            + ', '.join(f'{m:+.{digits}f}' for m in margin) + '; '
            + ('above on every seed' if min(margin) > 0 else
               'not above on every seed'))
    return [''] + lines if lines else []


def tables(task, teachers, by_domain, summaries, weights, args):
    """The Markdown tables; ``by_domain``: {row: {domain: metric}}."""
    seeds = ', '.join(map(str, args.seeds))
    name, d = task.name, task.digits
    lines = [
        f"Each teacher's {name}{task.unit} on each domain's {NUM_VAL} "
        'validation images:', '', '| teacher trained on | ' +
        ' | '.join(f'{name} on {domain}' for domain in DOMAINS) + ' |',
        '| --- |' + ' --- |' * len(DOMAINS)
    ] + [
        f'| {row} | ' + ' | '.join(f'{metric[domain]:.{d}f}'
                                   for domain in DOMAINS) + ' |'
        for row, metric in by_domain.items()
    ] + [
        '',
        f'{task.title}{task.unit} on the union of the '
        f"{len(DOMAINS)} domains' validation "
        f'sets ({len(DOMAINS) * NUM_VAL} images); student on the first '
        f'{args.student_images} training images of each domain; seeds '
        f'{seeds}:', '',
        f'| model | {name}, mean ± std | gain over plain (paired) | '
        f'gain on seeds {seeds} | clear gain (> 2 std) |',
        '| --- | --- | --- | --- | --- |'
    ]
    lines += [f'| teacher trained on {domain} | {v:.{d}f} | | | |'
              for domain, v in teachers.items()]
    plain = summaries['student, no distillation']['runs']
    for row, s in summaries.items():
        per_seed = ', '.join(f'{value - plain[seed]:+.{d}f}'
                             for seed, value in s['runs'].items())
        gain = (f"{s['gain']:+.{d}f} ± {s['gain_std']:.{d}f} | {per_seed} | "
                f"{'yes' if s['clear'] else 'no'}" if 'gain' in s else ' | |')
        lines.append(f"| {row} | {s['mean']:.{d}f} ± {s['std']:.{d}f} | "
                     f'{gain} |')
    lines += margins(summaries, d)
    lines += [
        '', "Mean logit weight per teacher on each domain's training images "
        '(iterations 100-200, mean over the seeds):', '',
        '| method | images | ' + ' | '.join(f'w({d} teacher)'
                                           for d in DOMAINS) +
        ' | w(in-domain teacher) |', '| --- | --- |' + ' --- |' *
        (len(DOMAINS) + 1)
    ]
    for method, by_domain in weights.items():
        for kind, label in WEIGHT_KINDS:
            for images, stats in by_domain.items():
                if kind not in stats:
                    continue
                own = next(d for d in DOMAINS if images.endswith(d))
                lines.append(
                    f'| {METHODS[method]}{label} | {images} '
                    f"({stats['samples']}) | " +
                    ' | '.join(f'{stats[kind][d]:.3f}' for d in DOMAINS) +
                    f' | {stats[kind][own]:.3f} |')
    return '\n'.join(lines + accuracy_table(weights)) + '\n'


def accuracy_table(weights):
    """Lines: each teacher's accuracy on each domain's training points, from
    the first method's runs that recorded it ([] if none did)."""
    method, by_domain = next(iter(weights.items()))
    if not all(ACCURACY in stats for stats in by_domain.values()):
        return []
    return [
        '', "Share of the points of each domain's training images (the "
        'image, its sampled RoIs, positive priors or pixels) each teacher '
        f'predicts right ({METHODS[method]} runs, iterations 100-200, mean '
        'over the seeds):', '',
        '| images | ' + ' | '.join(f'{d} teacher' for d in DOMAINS) + ' |',
        '| --- |' + ' --- |' * len(DOMAINS)
    ] + [
        f'| {images} | ' + ' | '.join(f'{stats[ACCURACY][d]:.3f}'
                                      for d in DOMAINS) + ' |'
        for images, stats in by_domain.items()
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--task', choices=list(TASKS),
                        default='classification')
    parser.add_argument('--methods', nargs='+', choices=list(METHODS),
                        help='default: ' + '; '.join(
                            f"{' '.join(t.methods)} ({name})"
                            for name, t in TASKS.items()))
    parser.add_argument('--student-images', type=int, default=30,
                        help='labelled training images per domain that '
                        f'the student gets (at most {NUM_TRAIN})')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1])
    parser.add_argument('--work-dir', help='default: work_dirs/demo '
                        '(classification), else work_dirs/demo_<task>')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='config options of every student run, plain '
                        'and distilled (not the teachers), e.g. '
                        'optim_wrapper.optimizer.lr=0.004')
    args = parser.parse_args()
    if not 0 < args.student_images <= NUM_TRAIN:
        parser.error(f'--student-images must be in 1..{NUM_TRAIN}')
    task = TASKS[args.task]
    args.methods = args.methods or list(task.methods)
    missing = [m for m in args.methods
               if not (CONFIGS / f'{task.student}_{m}.py').exists()]
    if missing:
        parser.error(f'no {args.task} config in configs/demo/ for '
                     f"{', '.join(missing)}")
    work = REPO / (args.work_dir or 'work_dirs/demo' + (
        '' if args.task == 'classification' else f'_{args.task}'))
    start = time.time()
    make_domains(args.student_images)

    teacher_options, by_domain = [], {}
    for index, domain in enumerate(DOMAINS):
        out = work / f'teacher_{domain}'
        if not (out / 'iter_200.pth').exists():
            step(f"teacher trained on all '{domain}' images")
            train(REPO / 'configs' / 'shapes' / f'{task.teacher}.py', out,
                  on_domain(task, domain, ('train', 'val', 'test')),
                  echo=True, cwd=REPO)
        by_domain[domain] = metric_by_domain(task, out, out / 'iter_200.pth')
        teacher_options.append(
            f'model.teachers.{index}.checkpoint={out / "iter_200.pth"}')
    subset = student_subset(task, args.student_images) + args.cfg_options

    runs = [planned_run(task, work, seed, method, subset, teacher_options)
            for seed in args.seeds for method in [None, *args.methods]]
    progress = Progress('demo', len(runs),
                        sum(not run.finished_before for run in runs))
    metrics, plain_by_domain = {}, {}
    for seed, method, name, out, config, options, cached in runs:
        step(f'seed {seed}: {name}')
        save_initial_weights(CONFIGS / f'{task.student}.py', seed,
                             out.parent / 'init.pth')
        if cached:
            step(f'seed {seed}: {name} finished before, in {out}')
        else:
            out.mkdir(parents=True, exist_ok=True)
            (out / 'run.txt').unlink(missing_ok=True)
            (out / 'config.py').write_text(config)
            train(out / 'config.py', out, options, echo=True, cwd=REPO)
            (out / 'run.txt').write_text(config + '\n'.join(options))
        metrics.setdefault(name, {})[seed] = last_value(out, task.metric)
        if method is None and args.task != 'classification':
            plain_by_domain[seed] = metric_by_domain(
                task, out, out / 'iter_200.pth')
        progress.finished(f'seed {seed}, {name}: {task.name} '
                          f'{metrics[name][seed]:.{task.digits}f}', cached)

    first = work / f'seed{args.seeds[0]}' / args.methods[0]
    teachers = {d: last_value(first, f'teacher/{d}/{task.metric}')
                for d in DOMAINS}
    plain = metrics['student, no distillation']
    summaries = {name: summarise(values, plain)
                 for name, values in metrics.items()}
    weights = mean_weights(work, args.methods, args.seeds)
    rows = dict(by_domain)
    if plain_by_domain:
        rows['student, no distillation (mean over the seeds)'] = {
            d: statistics.mean(m[d] for m in plain_by_domain.values())
            for d in DOMAINS}
    text = tables(task, teachers, rows, summaries, weights, args)
    command = 'python tools/demo/domain_demo.py ' + ' '.join(sys.argv[1:])
    (work / 'demo.md').write_text(f'`{command.strip()}`\n\n{text}')
    (work / 'demo.json').write_text(json.dumps(dict(
        command=command.strip(), task=args.task, metric=task.metric,
        student_images=args.student_images,
        seeds=args.seeds, teachers=teachers,
        **{f'teacher_{task.key}_by_domain': by_domain},
        plain_student_by_domain=plain_by_domain, students=summaries,
        weights=weights, machine=benchmark_machine(),
        data={d: data_digest(REPO / 'data' / f'shapes_{d}')
              for d in DOMAINS}), indent=2))
    print('\n' + text)
    for method in args.methods:
        subprocess.run([
            sys.executable, REPO / 'tools' / 'analysis' /
            'plot_teacher_weights.py', work / f'seed{args.seeds[0]}' / method
        ], check=True)
    print(f'done in {(time.time() - start) / 60:.1f} min')


if __name__ == '__main__':
    main()
