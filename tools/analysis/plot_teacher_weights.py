"""Plot the teachers' mean weights (and a learnt temperature) over
training from a run's logs.

    python tools/analysis/plot_teacher_weights.py WORK_DIR [--out FILE.png]

Reads the newest ``WORK_DIR/<timestamp>/vis_data/scalars.json`` and draws
every ``distill.w_logit.<teacher>`` and ``distill.w_feature.<teacher>``
(the batch means) against the iteration; where a temperature learns
(RLKD), the batch's ``distill.temperature_mean`` ±
``distill.temperature_std``; and where ``TeacherWeightsByDomainHook`` ran,
one panel per domain: each teacher's mean logit weight on that domain's
images (``domain_weight/<domain>/<teacher>``). Writes
``WORK_DIR/teacher_weights.png`` by default.
"""
import argparse
import json
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

KINDS = ('logit', 'feature')
TEMPERATURE = {'distill.temperature_mean': 'mean',
               'distill.temperature_std': 'std'}


def read_weights(work_dir):
    """{kind: {teacher: ([iters], [weights])}} from the newest run's log,
    ``'temperature'``: {'mean' | 'std': ([iters], [values])} and
    ``'domains'``: {domain: {teacher: ([iters], [weights])}}."""
    runs = sorted(Path(work_dir).glob('*/vis_data/scalars.json'))
    if not runs:
        raise SystemExit(f'plot_teacher_weights.py: error: no run logs '
                         f'(*/vis_data/scalars.json) in {work_dir}')
    curves = {kind: defaultdict(lambda: ([], []))
              for kind in (*KINDS, 'temperature')}
    curves['domains'] = defaultdict(lambda: defaultdict(lambda: ([], [])))
    for line in runs[-1].read_text().splitlines():
        record = json.loads(line)
        for key, value in record.items():
            if key.startswith('domain_weight/') and 'step' in record:
                _, domain, teacher = key.split('/', 2)
                iters, weights = curves['domains'][domain][teacher]
                iters.append(record['step'])
                weights.append(value)
            if key in TEMPERATURE and 'step' in record:
                iters, values = curves['temperature'][TEMPERATURE[key]]
                iters.append(record['step'])
                values.append(value)
            for kind in KINDS:
                prefix = f'distill.w_{kind}.'
                if key.startswith(prefix) and 'step' in record:
                    iters, weights = curves[kind][key[len(prefix):]]
                    iters.append(record['step'])
                    weights.append(value)
    if not any(curves[kind] for kind in KINDS):
        raise SystemExit('plot_teacher_weights.py: error: no '
                         f'distill.w_* scalars in {runs[-1]}')
    return curves


def plot(curves, out):
    """One panel per kind of batch-mean weight, the temperature and each
    domain, side by side, to the PNG ``out``."""
    panels = [(f'{kind} weight per teacher (batch mean)', curves[kind])
              for kind in KINDS]
    if curves.get('temperature'):
        panels.append(('temperature (batch mean ± std over points)', None))
    panels += [(f"logit weight per teacher on {domain}'s images", teachers)
               for domain, teachers in sorted(curves.get('domains',
                                                         {}).items())]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4))
    for ax, (title, lines) in zip(axes, panels):
        if lines is None:
            iters, mean = curves['temperature']['mean']
            std = curves['temperature']['std'][1]
            ax.plot(iters, mean, label='mean')
            ax.fill_between(iters, [m - s for m, s in zip(mean, std)],
                            [m + s for m, s in zip(mean, std)], alpha=0.3,
                            label='± std')
        for teacher, (iters, weights) in sorted((lines or {}).items()):
            ax.plot(iters, weights, label=teacher)
        ax.set_title(title)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        ax.legend()
    axes[0].set_ylabel('weight')
    fig.tight_layout()
    fig.savefig(out, dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir')
    parser.add_argument('--out', help='PNG to write')
    args = parser.parse_args()
    out = args.out or str(Path(args.work_dir) / 'teacher_weights.png')
    plot(read_weights(args.work_dir), out)
    print(f'teacher weights plotted to {out}')


if __name__ == '__main__':
    main()
