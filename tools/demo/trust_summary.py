"""One table over the tasks of the domain demo: for each run's
``demo.json`` (tools/demo/domain_demo.py), the plain student, the best
baseline, and each LookAheadTrust form run: its gain over the plain
student, its margin over the best of the plain student and the baselines
on each seed, and its lowest mean weight on the in-domain teacher.

    python tools/demo/trust_summary.py work_dirs/demo \
        work_dirs/demo_detection work_dirs/demo_one_stage_detection \
        work_dirs/demo_segmentation
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from domain_demo import BASELINES, METHODS, TASKS  # noqa: E402

WEIGHT_BAR = 0.75  # the in-domain weight the issue (#25) asks for


def in_domain_weight(weights):
    """The lowest mean logit weight on the in-domain teacher over the
    domains' images: {images: {'logit': {teacher: w}}} → float."""
    return min(stats['logit'][images.removeprefix('shapes_')]
               for images, stats in weights.items())


def summary_rows(demo):
    """Markdown rows of one ``demo.json``: one per LookAheadTrust form."""
    task = TASKS[demo['task']]
    students = demo['students']
    plain = students['student, no distillation']
    baselines = {METHODS[m]: students[f'student, {METHODS[m]}']
                 for m in BASELINES if f'student, {METHODS[m]}' in students}
    best_name = max(baselines, key=lambda name: baselines[name]['mean'])
    best = baselines[best_name]
    rivals = [plain, *baselines.values()]
    d = task.digits
    rows = []
    for method, weights in demo['weights'].items():
        if not method.startswith('look_ahead_trust'):
            continue
        form = students[f'student, {METHODS[method]}']
        margin = [value - max(r['runs'][seed] for r in rivals)
                  for seed, value in form['runs'].items()]
        weight = in_domain_weight(weights)
        meets = min(margin) > 0 and weight >= WEIGHT_BAR
        rows.append(
            f"| {demo['task']} | {', '.join(map(str, demo['seeds']))} "
            f"| {plain['mean']:.{d}f} | {best_name} "
            f"{best['gain']:+.{d}f} ± {best['gain_std']:.{d}f} "
            f"| {METHODS[method]} "
            f"| {form['gain']:+.{d}f} ± {form['gain_std']:.{d}f} "
            f"| {', '.join(f'{m:+.{d}f}' for m in margin)} "
            f"| {weight:.3f} | {'yes' if meets else 'no'} |")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dirs', nargs='+', type=Path,
                        help='work dirs of tools/demo/domain_demo.py runs')
    args = parser.parse_args()
    print('| task | seeds | plain student | best baseline, gain | form '
          '| gain | minus the best rival, per seed '
          f'| lowest in-domain weight | both bars (above on every seed, '
          f'weight ≥ {WEIGHT_BAR}) |')
    print('| --- ' * 9 + '|')
    for work_dir in args.work_dirs:
        demo = json.loads((work_dir / 'demo.json').read_text())
        print('\n'.join(summary_rows(demo)))


if __name__ == '__main__':
    main()
