"""Time a distillation config, step by step, on this machine.

    python tools/analysis/benchmark_distill.py CONFIG [--iters 20] \
        [--weightings AVER MTKDRL] [--temperatures 4.0 RLKDTemperature] \
        [--teacher-precisions fp32 bf16] [--student-bf16] \
        [--cfg-options k=v ...]

For each of N batches (loaded beforehand, so data loading is not timed) it
times, interleaved: the student-only train step, each teacher's no-grad
forward, and the whole distillation train step; the weighting's (and the
temperature's) own time is measured inside the distillation step, and a
learner's update (every --update-interval iterations, or its own
update_interval) is amortised per iteration. It prints medians and, last,
one JSON object with every figure (seconds, peak RSS in MiB) and the
machine (``machine.py``).

With ``--weightings`` the distillation step is timed once per weighting on
the same batch, in alternating order, the config's own first: the
reference of the ratios. ``--teacher-precisions`` times the teachers'
forwards and the distillation step once per precision, each with its own
pool of the same teachers. ``--temperatures`` (numbers, or types: the
config's own where its type is named) does the same for temperatures, the
first given being the reference. The message hub counts the iterations, so
warm-ups end as in training.

``--student-bf16`` also times the student-only step with the student in
bf16 (``--amp``'s mixed precision, which MMEngine's ``AmpOptimWrapper``
refuses on a CPU): a copy of the student, prepared as a bf16 teacher is
(``channels_last``, mmcv's ops fed fp32), its forward and loss under bf16
autocast; with the student's share of the distillation step, it says what
a bf16 student would save (``student_bf16_saving``).
"""
import argparse
import copy
import inspect
import json
import resource
import statistics
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import torch
from mmengine.logging import MessageHub
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mtkd_mm  # noqa: F401
from mtkd_mm.engine.launch import CfgOptionsAction, load_config
from mtkd_mm.distillers.multi_teacher_distiller import build_temperature
from mtkd_mm.distillers.teacher_pool import TeacherPool
from mtkd_mm.distillers.teacher_precision import PRECISIONS, prepare_teacher
from mtkd_mm.learning import Learner
from mtkd_mm.registry import MODELS, WEIGHTINGS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument(
        '--update-interval', type=int,
        help='iterations between updates of every learner '
        "(default: each one's own update_interval)")
    parser.add_argument(
        '--weightings', nargs='+',
        help='weighting types to time on the same batches (default: the '
        "config's)")
    parser.add_argument(
        '--temperatures', nargs='+',
        help='temperatures to time on the same batches: numbers or types')
    parser.add_argument(
        '--teacher-precisions', nargs='+', choices=list(PRECISIONS),
        help='teacher precisions to time on the same batches, the first '
        'the reference (e.g. fp32 bf16)')
    parser.add_argument(
        '--student-bf16', action='store_true',
        help='also time the student-only step with the student in bf16')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        default={})
    return parser.parse_args()


def clock():
    """``time.perf_counter()`` once the GPU's queued work is done."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter()


def timed(fn):
    start = clock()
    fn()
    return clock() - start


class ModuleTimer:
    """Accumulates the wall time of a module's forward calls."""

    def __init__(self, module):
        self.total = 0.0
        module.register_forward_pre_hook(self._start)
        module.register_forward_hook(self._stop)

    def _start(self, module, args):
        self._t0 = clock()

    def _stop(self, module, args, output):
        self.total += clock() - self._t0

    def take(self):
        value, self.total = self.total, 0.0
        return value


def student_optim_cfg(optim_cfg):
    """The distiller's optim wrapper config for the student alone (without
    the distiller's constructor)."""
    return {k: v for k, v in optim_cfg.items() if k != 'constructor'}


class Bf16OptimWrapper(OptimWrapper):
    """An optim wrapper whose context runs the forward and the loss under
    bf16 autocast on the model's device (no loss scaling: bf16 has fp32's
    range)."""

    @contextmanager
    def optim_context(self, model):
        device = next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(
                device, dtype=torch.bfloat16):
            yield


def bf16_student(student, optim_cfg):
    """A copy of ``student`` prepared for bf16 and its
    :class:`Bf16OptimWrapper` of ``optim_cfg``'s optimiser."""
    student = copy.deepcopy(student)
    prepare_teacher(student, torch.bfloat16)
    optim = build_optim_wrapper(student, dict(
        student_optim_cfg(optim_cfg), type=Bf16OptimWrapper))
    return student, optim


def weighting_config(name, batch_size):
    """``dict(type=name)``, with the training batch size for weightings
    that need it (MMKD)."""
    cfg = dict(type=name)
    WEIGHTINGS.import_from_location()
    if 'batch_size' in inspect.signature(WEIGHTINGS.get(name)).parameters:
        cfg['batch_size'] = batch_size
    return cfg


def build_variants(distiller, args, batch_size, teachers_cfg):
    """{label: (part, module)}: the config's weighting, then each of
    ``--weightings``; or each of ``--temperatures`` in the order given (the
    config's own where its type is named); or a teacher pool per
    ``--teacher-precisions``."""
    if args.teacher_precisions:
        own = distiller.teachers
        return {
            precision: ('teachers', own if PRECISIONS[
                precision] == own.dtype else TeacherPool(
                    teachers_cfg, distiller.student.data_preprocessor,
                    distiller.view, precision))
            for precision in args.teacher_precisions
        }
    if args.temperatures:
        own, variants = distiller.temperature, {}
        for value in args.temperatures:
            if value == type(own).__name__:
                module = own
            else:
                try:
                    module = build_temperature(float(value))
                except ValueError:
                    module = build_temperature(dict(type=value))
            variants[label(module)] = ('temperature', module)
        return variants
    own = distiller.weighting
    variants = {label(own): ('weighting', own)}
    for name in args.weightings or []:
        if name not in variants:
            variants[name] = ('weighting', distiller.build_weighting(
                weighting_config(name, batch_size)))
    return variants


def label(module):
    """A variant's name: its type, with the value of a fixed T."""
    value = getattr(module, 'value', None)
    name = type(module).__name__
    return name if value is None else f'{name}({value:g})'


def build_distiller(cfg, device='cpu'):
    """The config's distiller (SyncBN reverted, as a single-process run
    does) in train mode on ``device``, its optim wrapper and the
    student's."""
    init_default_scope(cfg.get('default_scope', 'mmengine'))
    model_cfg = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    distiller = revert_sync_batchnorm(MODELS.build(model_cfg))
    distiller.init_weights()
    distiller.to(device).train()
    optim = build_optim_wrapper(distiller, copy.deepcopy(cfg.optim_wrapper))
    student_optim = build_optim_wrapper(
        distiller.student, student_optim_cfg(cfg.optim_wrapper))
    return distiller, optim, student_optim


def measure(distiller, optim, student_optim, batches, variants, warmup,
            update_interval=None, student_bf16=None):
    """Time ``batches`` (the first ``warmup`` untimed) as the module
    docstring says; ``variants`` as :func:`build_variants` gives them, the
    first the reference; ``student_bf16``: :func:`bf16_student`'s pair, or
    None. Returns the medians and ratios."""
    iters = len(batches) - warmup
    device = next(distiller.student.parameters()).device
    for _, module in variants.values():
        module.to(device)
    student = distiller.student
    timers = {name: ModuleTimer(m) for name, (part, m) in variants.items()
              if part != 'teachers'}
    pools = {f'{name}.': m for name, (part, m) in variants.items()
             if part == 'teachers'} or {'': distiller.teachers}
    reference_pool = next(iter(pools))
    learner_optim = {
        name: build_optim_wrapper(m, m.optim_wrapper_cfg)
        for name, (_, m) in variants.items() if isinstance(m, Learner)
    }
    batch_size = len(batches[0]['data_samples'])
    for name in learner_optim:
        variants[name][1].attach(distiller.student_look_ahead(optim),
                                 batch_size)
        interval = update_interval or variants[name][1].update_interval
        if interval > len(batches):
            print(f'warning: {name} updates every {interval} iterations, '
                  f'after the {len(batches)} timed here: its update is not '
                  'timed (set --update-interval)')
    names = distiller.teacher_names
    times = defaultdict(list)
    update_seconds = defaultdict(float)
    hub = MessageHub.get_current_instance()
    for index, batch in enumerate(batches):
        hub.update_info('iter', index)
        record = index >= warmup
        t_student = timed(lambda: student.train_step(batch, student_optim))
        if student_bf16:
            try:
                t_bf16 = timed(lambda: student_bf16[0].train_step(
                    batch, student_bf16[1]))
            except RuntimeError as error:
                print(f'--student-bf16: the student fails in bf16 here, not '
                      f'timed ({error})')
                student_bf16 = None
            else:
                times['student_step_bf16'] += [t_bf16] if record else []
        data = distiller.data_preprocessor(batch, True)
        with torch.no_grad():
            _, s_record, points = distiller.view.student_loss(
                student, data['inputs'], data['data_samples'])
        t_teachers = {}
        for prefix, pool in pools.items():
            for name in names:
                t_teachers[prefix + name] = timed(lambda: pool.record(
                    name, distiller.view, data['inputs'], points, s_record))
        t_distill = {}
        order = list(variants.items())
        for name, (part, module) in order[::-1] if index % 2 else order:
            setattr(distiller, part, module)
            if name in timers:
                timers[name].take()
            t_distill[name] = timed(lambda: distiller.train_step(batch, optim))
            if name in learner_optim:
                module.observe(batch)
            interval = update_interval or getattr(
                module, 'update_interval', 1)
            if name in learner_optim and (index + 1) % interval == 0:
                t_update = timed(lambda: module.learn(
                    learner_optim[name], module.experience.drain()))
                update_seconds[name] += t_update if record else 0.0
            if record:
                times[f'distill_step.{name}'].append(t_distill[name])
                if name in timers:
                    times[f'{part}.{name}'].append(timers[name].take())
        if record:
            times['student_step'].append(t_student)
            for name, t in t_teachers.items():
                times[f'teacher_forward.{name}'].append(t)

    result = {k: statistics.median(v) for k, v in times.items()}
    teachers = {prefix: sum(result[f'teacher_forward.{prefix}{n}']
                            for n in names) for prefix in pools}
    parts = result['student_step'] + teachers[reference_pool]
    result['student_plus_teachers'] = parts
    for prefix, total in teachers.items():
        result[f'teacher_forwards.{prefix}total'] = total
        if prefix != reference_pool:
            result[f'teacher_forwards_ratio.{prefix[:-1]}/'
                   f'{reference_pool[:-1]}'] = total / teachers[reference_pool]
    reference = next(iter(variants))
    if student_bf16:
        result['student_step_ratio.bf16/fp32'] = (
            result['student_step_bf16'] / result['student_step'])
    for name in variants:
        result[f'agent_update_per_iter.{name}'] = update_seconds[name] / iters
        result[f'distill_step_with_update.{name}'] = (
            result[f'distill_step.{name}'] +
            result[f'agent_update_per_iter.{name}'])
        result[f'overhead_ratio.{name}'] = (
            result[f'distill_step_with_update.{name}'] / parts)
        result[f'step_ratio.{name}/{reference}'] = (
            result[f'distill_step_with_update.{name}'] /
            result[f'distill_step_with_update.{reference}'])
        result[f'student_share.{name}'] = (
            result['student_step'] /
            result[f'distill_step_with_update.{name}'])
        if student_bf16:
            # the share of the distillation step a bf16 student would save
            result[f'student_bf16_saving.{name}'] = (
                (result['student_step'] - result['student_step_bf16']) /
                result[f'distill_step_with_update.{name}'])
    return result


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    args = parse_args()
    torch.manual_seed(0)
    cfg = load_config(args.config, args.cfg_options)
    distiller, optim, student_optim = build_distiller(cfg)
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    batches, iterator = [], iter(loader)
    for _ in range(args.iters + args.warmup):
        batches.append(next(iterator))
    variants = build_variants(distiller, args,
                              cfg.train_dataloader.batch_size,
                              cfg.model.teachers)
    student_bf16 = (bf16_student(distiller.student, cfg.optim_wrapper)
                    if args.student_bf16 else None)
    result = measure(distiller, optim, student_optim, batches, variants,
                     args.warmup, args.update_interval, student_bf16)
    result['peak_rss_mib'] = peak_rss_mib()
    result['iters'] = args.iters
    result['config'] = args.config
    result['machine'] = machine()
    for key, value in result.items():
        if isinstance(value, float):
            print(f'{key:>40s}: {value:.4f}')
    print(json.dumps(result))

if __name__ == '__main__':
    main()
