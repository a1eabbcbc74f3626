"""Teachers from different domains, one student on their union: which
teacher does each weighting trust on which images, and does distillation
make the student better? Measured in one run.

    python tools/demo/domain_demo.py \
        [--methods aver ca_mkd mtkd_rl look_ahead_trust \
                   look_ahead_trust_embeddings] \
        [--student-images 30] [--seeds 0 1 2] [--work-dir work_dirs/demo]

1. makes the shapes data in three domains (``clean``, ``dark`` and
   ``noisy``, 240 training and 60 validation images each);
2. trains one ResNet-18 teacher on all training images of each domain
   and tests it on each domain's validation images (once; cached in the
   work dir);
3. for every seed, trains the student on the union of the first
   ``--student-images`` training images of each domain without
   distillation, then distils it with each method (configs/demo/), all
   from the same initial weights and in the same data order. With the
   default 30 the teachers know more of their own domain than the student
   can learn from its labels (the *trust* variant: trusting the in-domain
   teacher pays); ``--student-images 240`` gives the student every image,
   where every teacher is weaker on the union than the plain student;
4. prints, and writes to ``WORK_DIR/demo.md`` and ``demo.json``: each
   teacher's top-1 on each domain, each teacher's and each student's top-1
   on the union's validation set (mean ± std over the seeds and the gain
   over the plain student, paired by seed),
   and the mean weight each teacher received on each domain's images over
   the last half of training (for MTKD-RL also the agent's own action,
   before its fusion with the fixed confidence- and divergence-aware
   weights; for LookAheadTrust also the share of images on which each
   teacher earns the highest look-ahead credit, and the share on which it
   earns it and is right); plots the MTKD-RL teacher weights of the first
   seed. ``demo.json`` also names the machine (``machine.py``: CPU,
   threads, library versions) and each domain's data digest
   (``make_shapes.data_digest``): two machines' figures are comparable
   where both agree.
Every figure is read from the logs of this run.
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tools' / 'analysis'))
sys.path.insert(0, str(REPO / 'tools' / 'data'))
from machine import machine  # noqa: E402
from make_shapes import data_digest  # noqa: E402
from print_metric import last_value  # noqa: E402
from seeded_runs import (Progress, log, repo_env,  # noqa: E402
                         save_initial_weights, summarise, train)

METRIC = 'accuracy/top1'
DOMAINS = {'clean': 0, 'dark': 1, 'noisy': 2}  # domain → its data seed
NUM_TRAIN, NUM_VAL = 240, 60
CONFIGS = REPO / 'configs' / 'demo'
TEACHER_CONFIG = REPO / 'configs' / 'shapes' / 'resnet18_narrow_shapes.py'
METHODS = {
    'aver': 'AVER',
    'ca_mkd': 'CA-MKD',
    'mtkd_rl': 'MTKD-RL',
    'mtkd_rl_reinforce': 'MTKD-RL, REINFORCE',
    'mmkd': 'MMKD',
    'look_ahead_trust': 'LookAheadTrust (ours)',
    'look_ahead_trust_embeddings': 'LookAheadTrust, embeddings',
    'look_ahead_trust_state_and_embeddings': 'LookAheadTrust, state and '
    'embeddings',
    'look_ahead_trust_raw_state': 'LookAheadTrust, raw state',
    'look_ahead_trust_surrogate': 'LookAheadTrust, surrogate policy',
    'look_ahead_trust_reinforce': 'LookAheadTrust, REINFORCE policy',
    'look_ahead_trust_reinforce_reference': 'LookAheadTrust, REINFORCE, '
    'reference reward',
}

# the weights in the table: applied, the MTKD-RL agent's own action, and
# (LookAheadTrust) the share of images on which each teacher has the
# highest look-ahead credit, and on which it has it and is right
WEIGHT_KINDS = (('logit', ''), ('agent_logit', ', agent alone'),
                ('best_credit', ", reward's best teacher"),
                ('best_credit_right', ", reward's best teacher, right"))


def step(message):
    log('demo', message)


def make_domains(student_images):
    """Each domain's data, and the list of the student's training images."""
    for domain, seed in DOMAINS.items():
        out = REPO / 'data' / f'shapes_{domain}'
        if not (out / 'meta.json').exists():
            step(f"shapes data, domain '{domain}' → {out}")
            subprocess.run([
                sys.executable, REPO / 'tools' / 'data' / 'make_shapes.py',
                '--out', out, '--num-train', str(NUM_TRAIN), '--num-val',
                str(NUM_VAL), '--img-size', '128', '--seed', str(seed),
                '--domain', domain
            ], check=True, stdout=subprocess.DEVNULL)
        labels = (out / 'cls_labels' / 'train.txt').read_text().splitlines()
        (out / 'cls_labels' / f'train_first{student_images}.txt').write_text(
            '\n'.join(labels[:student_images]) + '\n')


def teacher_top1_by_domain(teacher, checkpoint):
    """{domain: top-1 of ``checkpoint`` on that domain's validation
    images}, by ``tools/test.py``; cached in the teacher's work dir."""
    cache = teacher / 'top1_by_domain.json'
    if not cache.exists():
        step(f'testing {teacher.name} on each domain')
        top1 = {}
        for domain in DOMAINS:
            out = teacher / f'test_on_{domain}'
            subprocess.run([
                sys.executable, REPO / 'tools' / 'test.py', TEACHER_CONFIG,
                checkpoint, '--work-dir', out, '--cfg-options',
                f'test_dataloader.dataset.data_root=data/shapes_{domain}/'
            ], check=True, stdout=subprocess.DEVNULL, env=repo_env(),
                cwd=REPO)
            log_file = sorted(out.glob('*/*.json'))[-1]
            top1[domain] = json.loads(log_file.read_text())[METRIC]
        cache.write_text(json.dumps(top1, indent=2))
    return json.loads(cache.read_text())


def run_config(method, init, seed):
    """A run's config: the plain student (``method`` None) or a method's
    distiller, starting from the weights ``init``, data order ``seed``."""
    init_cfg = f"dict(type='Pretrained', checkpoint='{init}')"
    if method is None:
        base = 'resnet18_shapes_union.py'
        model = f'model = dict(init_cfg={init_cfg})'
    else:
        base = f'resnet18_shapes_union_{method}.py'
        model = f'model = dict(student=dict(init_cfg={init_cfg}))'
    return (f"_base_ = '{CONFIGS / base}'\n"
            f'randomness = dict(seed={seed})\n{model}\n')


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
                for kind, _ in WEIGHT_KINDS
                if kind in per_seed[0][domain]
            } | {'samples': per_seed[0][domain]['samples']}
            for domain in per_seed[0]
        }
    return result


def tables(teachers, by_domain, summaries, weights, args):
    seeds = ', '.join(map(str, args.seeds))
    lines = [
        f"Each teacher's top-1 (%) on each domain's {NUM_VAL} validation "
        'images:', '', '| teacher trained on | ' +
        ' | '.join(f'top-1 on {d}' for d in DOMAINS) + ' |',
        '| --- |' + ' --- |' * len(DOMAINS)
    ] + [
        f'| {t} | ' + ' | '.join(f'{top1[d]:.2f}' for d in DOMAINS) + ' |'
        for t, top1 in by_domain.items()
    ] + [
        '',
        f"Top-1 (%) on the union of the {len(DOMAINS)} domains' validation "
        f'sets ({len(DOMAINS) * NUM_VAL} images); student on the first '
        f'{args.student_images} training images of each domain; seeds '
        f'{seeds}:', '',
        '| model | top-1, mean ± std | gain over plain (paired) | '
        'clear gain (> 2 std) |', '| --- | --- | --- | --- |'
    ]
    lines += [f'| teacher trained on {d} | {v:.2f} | | |'
              for d, v in teachers.items()]
    for name, s in summaries.items():
        gain = (f"{s['gain']:+.2f} ± {s['gain_std']:.2f} | "
                f"{'yes' if s['clear'] else 'no'}" if 'gain' in s else ' |')
        lines.append(f"| {name} | {s['mean']:.2f} ± {s['std']:.2f} | "
                     f'{gain} |')
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
    return '\n'.join(lines) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--methods', nargs='+', choices=list(METHODS),
                        default=['aver', 'ca_mkd', 'mtkd_rl',
                                 'look_ahead_trust',
                                 'look_ahead_trust_embeddings'])
    parser.add_argument('--student-images', type=int, default=30,
                        help='labelled training images per domain that '
                        f'the student gets (at most {NUM_TRAIN})')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    args = parser.parse_args()
    if not 0 < args.student_images <= NUM_TRAIN:
        parser.error(f'--student-images must be in 1..{NUM_TRAIN}')
    work = REPO / args.work_dir
    start = time.time()
    make_domains(args.student_images)

    teacher_options, by_domain = [], {}
    for index, domain in enumerate(DOMAINS):
        out = work / f'teacher_{domain}'
        if not (out / 'iter_200.pth').exists():
            step(f"teacher trained on all '{domain}' images")
            root = f'data/shapes_{domain}/'
            train(TEACHER_CONFIG, out,
                  [f'{split}_dataloader.dataset.data_root={root}'
                   for split in ('train', 'val', 'test')], echo=True,
                  cwd=REPO)
        by_domain[domain] = teacher_top1_by_domain(out, out / 'iter_200.pth')
        teacher_options.append(
            f'model.teachers.{index}.checkpoint={out / "iter_200.pth"}')
    subset = [f'train_dataloader.dataset.datasets.{i}.ann_file='
              f'cls_labels/train_first{args.student_images}.txt'
              for i in range(len(DOMAINS))]

    runs = [(seed, method) for seed in args.seeds
            for method in [None, *args.methods]]
    progress = Progress('demo', len(runs))
    metrics = {}
    for seed, method in runs:
        name = ('student, no distillation' if method is None else
                f'student, {METHODS[method]}')
        step(f'seed {seed}: {name}')
        init = work / f'seed{seed}' / 'init.pth'
        save_initial_weights(CONFIGS / 'resnet18_shapes_union.py', seed,
                             init)
        out = work / f'seed{seed}' / (method or 'student')
        out.mkdir(parents=True, exist_ok=True)
        (out / 'config.py').write_text(run_config(method, init, seed))
        options = subset if method is None else subset + teacher_options
        train(out / 'config.py', out, options, echo=True, cwd=REPO)
        metrics.setdefault(name, {})[seed] = last_value(out, METRIC)
        progress.finished(f'seed {seed}, {name}: top-1 '
                          f'{metrics[name][seed]:.2f}')

    first = work / f'seed{args.seeds[0]}' / args.methods[0]
    teachers = {d: last_value(first, f'teacher/{d}/{METRIC}')
                for d in DOMAINS}
    plain = metrics['student, no distillation']
    summaries = {name: summarise(values, plain)
                 for name, values in metrics.items()}
    weights = mean_weights(work, args.methods, args.seeds)
    text = tables(teachers, by_domain, summaries, weights, args)
    command = 'python tools/demo/domain_demo.py ' + ' '.join(sys.argv[1:])
    (work / 'demo.md').write_text(f'`{command.strip()}`\n\n{text}')
    (work / 'demo.json').write_text(json.dumps(dict(
        command=command.strip(), student_images=args.student_images,
        seeds=args.seeds, teachers=teachers,
        teacher_top1_by_domain=by_domain, students=summaries,
        weights=weights, machine=machine(),
        data={d: data_digest(REPO / 'data' / f'shapes_{d}')
              for d in DOMAINS}), indent=2))
    print('\n' + text)
    for method in args.methods:
        if method.startswith('mtkd_rl'):
            subprocess.run([
                sys.executable, REPO / 'tools' / 'analysis' /
                'plot_teacher_weights.py', work / f'seed{args.seeds[0]}' /
                method
            ], check=True)
    print(f'done in {(time.time() - start) / 60:.1f} min')


if __name__ == '__main__':
    main()
