"""Which teacher the weighting trusts on which kind of image."""
import json
import os.path as osp
from collections import defaultdict
from pathlib import Path

from mmengine.dist import all_gather_object, is_main_process
from mmengine.hooks import Hook

from mtkd_mm.engine.distiller_of import distiller_of
from mtkd_mm.registry import HOOKS
from mtkd_mm.structures import TeacherState


@HOOKS.register_module()
class TeacherWeightsByDomainHook(Hook):
    """Averages each teacher's per-sample weights by image domain (the
    ``domain_depth``-th path component from the end:
    ``data/shapes_dark/images/train/0001.png`` → ``shapes_dark``). From
    ``start_iter`` on they are summed per domain and teacher (one batch
    held at a time); at the end rank 0 writes ``{domain: {'logit':
    {teacher: mean}, 'feature': …, <extras>: …, 'samples': n}}`` to
    ``WORK_DIR/out_file``. An image's weight is the one all its points
    (RoIs, pixels) share. ``quantities``: (B, K) quantities of the state
    the weighting saw (``TeacherState``), averaged per domain beside the
    weights under their own names, e.g. ``('teacher_accuracy',)``: the
    share of an image's points each teacher predicts right. Every
    ``interval`` iterations the window's mean logit weights go to the
    visualizer as ``domain_weight/<domain>/<teacher>`` (rank 0's images;
    the batch mean would mix the domains).
    """

    priority = 'LOW'

    def __init__(self, start_iter=0, domain_depth=4,
                 out_file='teacher_weights_by_domain.json', interval=10,
                 quantities=()):
        unknown = sorted(set(quantities) - set(TeacherState.QUANTITIES))
        if unknown:
            raise ValueError(
                f'TeacherWeightsByDomainHook.quantities: no state quantity '
                f'{unknown}; known: {list(TeacherState.QUANTITIES)}')
        self.start_iter = start_iter
        self.quantities = tuple(quantities)
        self.domain_depth = domain_depth
        self.out_file = out_file
        self.interval = interval
        self.sums = defaultdict(lambda: defaultdict(float))
        self.counts = defaultdict(int)  # per (domain, kind)
        self.window = defaultdict(lambda: defaultdict(float))
        self.window_counts = defaultdict(int)  # per domain
        self._last = None

    def before_train(self, runner):
        model = distiller_of(runner)
        self.names = model.teacher_names
        self.logit_names = [self.names[k] for k in model.logit_teachers]
        model.weighting.register_forward_hook(self._keep)

    def _keep(self, module, args, weights):
        if weights.logit.requires_grad:
            return  # a look-ahead's weights (MMKD), not the student step's
        quantities = {}
        if self.quantities:
            state = args[0].for_reader(self.quantities, type(self).__name__)
            quantities = {name: getattr(state, name)
                          for name in self.quantities}
        self._last = weights, quantities

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        last, self._last = self._last, None
        if last is None:
            return
        weights, quantities = last
        kinds = [('logit', self.logit_names, weights.logit),
                 ('feature', self.names, weights.feature)]
        for kind, w in ((weights.extras or {}) | quantities).items():
            names = (self.names if w.shape[1] == len(self.names) else
                     self.logit_names)
            kinds.append((kind, names, w))
        domains = [Path(sample.img_path).parts[-self.domain_depth]
                   for sample in data_batch['data_samples']]
        for kind, _, w in kinds:
            if len(w) != len(domains):
                raise ValueError(
                    f"TeacherWeightsByDomainHook: '{kind}' weights have "
                    f'{len(w)} rows for a batch of {len(domains)} images; '
                    'it averages one weight per image')
        self._add_to_window(runner, domains, weights.logit)
        if runner.iter < self.start_iter:
            return
        for i, domain in enumerate(domains):
            for kind, names, w in kinds:
                self.counts[(domain, kind)] += 1
                for name, value in zip(names, w[i].tolist()):
                    self.sums[(domain, kind)][name] += value

    def _add_to_window(self, runner, domains, logit):
        """Sum the logit weights (B, K) per domain; every ``interval``
        iterations, their means to the visualizer."""
        for domain, row in zip(domains, logit.tolist()):
            self.window_counts[domain] += 1
            for name, value in zip(self.logit_names, row):
                self.window[domain][name] += value
        if (runner.iter + 1) % self.interval:
            return
        counts = self.window_counts
        runner.visualizer.add_scalars({
            f'domain_weight/{domain}/{name}': total / counts[domain]
            for domain, per_teacher in sorted(self.window.items())
            for name, total in per_teacher.items()
        }, step=runner.iter + 1)
        self.window.clear()
        self.window_counts.clear()

    def after_train(self, runner):
        sums = all_gather_object({k: dict(v) for k, v in self.sums.items()})
        counts = all_gather_object(dict(self.counts))
        if not is_main_process():
            return
        total_sums = defaultdict(lambda: defaultdict(float))
        total_counts = defaultdict(int)
        for rank_sums, rank_counts in zip(sums, counts):
            for key, per_teacher in rank_sums.items():
                for name, value in per_teacher.items():
                    total_sums[key][name] += value
            for key, n in rank_counts.items():
                total_counts[key] += n
        result = {}
        for (domain, kind), n in sorted(total_counts.items()):
            result.setdefault(domain, {})[kind] = {
                name: value / n
                for name, value in total_sums[(domain, kind)].items()
            }
            if kind == 'logit':
                result[domain]['samples'] = n
        path = osp.join(runner.work_dir, self.out_file)
        with open(path, 'w') as f:
            json.dump(result, f, indent=2, sort_keys=True)
        runner.logger.info(f'teacher weights by domain → {path}: {result}')
