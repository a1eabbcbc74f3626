"""Teachers from different domains, one student on their union: MTKD-RL
against AVER (and optionally CA-MKD and MTKD-RL trained by REINFORCE),
measured in one run.

    python tools/demo/domain_demo.py [--methods aver mtkd_rl] \
        [--work-dir work_dirs/demo]

1. makes the shapes data in two domains (``clean`` and ``dark``);
2. trains one ResNet-18 teacher on each domain;
3. trains the student on the union without distillation, then distils it
   from the same start with each method (configs/demo/);
4. prints one table: each teacher's, the plain student's and each distilled
   student's top-1 on the union's validation set, and the mean weight each
   teacher received on each domain over the last half of training (for
   MTKD-RL also the agent's own action, before its fusion with the fixed
   confidence- and divergence-aware weights); plots the MTKD-RL teacher
   weights.
Every figure is read from the logs of this run.
"""
import argparse
import json
import os.path as osp
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tools' / 'analysis'))
from print_metric import last_value  # noqa: E402

METRIC = 'accuracy/top1'
DOMAINS = {'clean': 0, 'dark': 1}  # domain → seed of its data
METHODS = {
    'aver': 'AVER',
    'ca_mkd': 'CA-MKD',
    'mtkd_rl': 'MTKD-RL',
    'mtkd_rl_reinforce': 'MTKD-RL, REINFORCE',
}


def step(message):
    print(f'[demo {time.strftime("%H:%M:%S")}] {message}', flush=True)


def run(cmd, log_file):
    """Run a command, its output to ``log_file``; echo its progress lines."""
    with open(log_file, 'w') as log:
        proc = subprocess.Popen(
            [str(c) for c in cmd], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, cwd=REPO)
        for line in proc.stdout:
            log.write(line)
            if 'Iter(train)' in line or 'Iter(val)' in line and 'top1' in line:
                progress = line.split(' - mmengine - INFO - ')[-1]
                print('    ' + progress.rstrip()[:110], flush=True)
        if proc.wait() != 0:
            raise SystemExit(f'domain_demo.py: error: {cmd[1]} failed, see '
                             f'{log_file}')


def train(config, work_dir, *options):
    cmd = [sys.executable, REPO / 'tools' / 'train.py', config,
           '--work-dir', work_dir]
    if options:
        cmd += ['--cfg-options', *options]
    run(cmd, f'{work_dir}.log')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--methods', nargs='+', choices=list(METHODS),
                        default=['aver', 'mtkd_rl'])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    args = parser.parse_args()
    work = REPO / args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    start = time.time()

    for domain, seed in DOMAINS.items():
        out = REPO / 'data' / f'shapes_{domain}'
        step(f"shapes data, domain '{domain}' → {out}")
        subprocess.run([
            sys.executable, REPO / 'tools' / 'data' / 'make_shapes.py',
            '--out', out, '--num-train', '240', '--num-val', '60',
            '--img-size', '128', '--seed', str(seed), '--domain', domain
        ], check=True, stdout=subprocess.DEVNULL)

    for domain in DOMAINS:
        step(f"teacher trained on '{domain}' only")
        root = f'data/shapes_{domain}/'
        train(REPO / 'configs' / 'shapes' / 'resnet18_narrow_shapes.py',
              work / f'teacher_{domain}',
              *(f'{split}_dataloader.dataset.data_root={root}'
                for split in ('train', 'val', 'test')))

    step('student on the union, no distillation')
    train(REPO / 'configs' / 'demo' / 'resnet18_shapes_union.py',
          work / 'student')
    teachers = [f'model.teachers.{i}.checkpoint='
                f'{work / f"teacher_{d}" / "iter_200.pth"}'
                for i, d in enumerate(DOMAINS)]
    for method in args.methods:
        step(f'student on the union, distilled with {METHODS[method]}')
        train(REPO / 'configs' / 'demo' /
              f'resnet18_shapes_union_{method}.py', work / method, *teachers)

    rows = [(f'teacher trained on {d}', last_value(
        work / args.methods[0], f'teacher/{d}/{METRIC}')) for d in DOMAINS]
    rows.append(('student, no distillation',
                 last_value(work / 'student', METRIC)))
    rows += [(f'student, {METHODS[m]}', last_value(work / m, METRIC))
             for m in args.methods]
    print(f'\nTop-1 (%) on the union of the two domains\' validation sets '
          f'(120 images), {osp.basename(sys.argv[0])} '
          f'--methods {" ".join(args.methods)}:\n')
    print('| model | top-1 |\n| --- | --- |')
    for name, value in rows:
        print(f'| {name} | {value:.2f} |')

    print('\nMean logit weight per teacher on each domain\'s training images '
          '(iterations 100-200):\n')
    print('| method | images | ' + ' | '.join(f'w({d} teacher)'
                                            for d in DOMAINS) + ' |')
    print('| --- | --- |' + ' --- |' * len(DOMAINS))
    for method in args.methods:
        by_domain = json.loads(
            (work / method / 'teacher_weights_by_domain.json').read_text())
        for kind, label in (('logit', ''), ('agent_logit', ', agent alone')):
            for domain, stats in by_domain.items():
                if kind not in stats:
                    continue
                weights = ' | '.join(f'{stats[kind][d]:.3f}' for d in DOMAINS)
                print(f'| {METHODS[method]}{label} | {domain} '
                      f'({stats["samples"]}) | {weights} |')
    for method in args.methods:
        if method.startswith('mtkd_rl'):
            subprocess.run([
                sys.executable, REPO / 'tools' / 'analysis' /
                'plot_teacher_weights.py', work / method
            ], check=True)
    print(f'\ndone in {(time.time() - start) / 60:.1f} min')


if __name__ == '__main__':
    main()
