"""Build, load and freeze the teachers."""
import logging
import os
import os.path as osp

import torch
import torch.nn as nn
from mmengine.config import ConfigDict
from mmengine.logging import print_log
from mmengine.registry import DefaultScope
from mmengine.runner.checkpoint import _load_checkpoint

from mtkd_mm.checkpoint_fit import misfit, state_dict_of
from mtkd_mm.config_refs import read_config
from mtkd_mm.errors import BuildError, CheckpointError, missing_type
from mtkd_mm.packages import import_scope
from mtkd_mm.registry import MODELS

from .normalisation import normalisation_of, renormalise
from .teacher_precision import (autocast_inputs, precision_dtype,
                                prepare_teacher, to_fp32)


def read_model_config(config, who, key):
    """A model dict with ``_scope_`` from a model dict, a config file or a
    ``package::path.py`` reference; the scope's task package is imported."""
    if isinstance(config, (dict, ConfigDict)):
        model = ConfigDict(config)
        scope = DefaultScope.get_current_instance()
        if scope is not None:
            model.setdefault('_scope_', scope.scope_name)
        import_scope(model.get('_scope_'), f'{who} ({key})')
        return model
    try:
        cfg = read_config(config)
    except Exception as error:
        raise BuildError(f"{who}: {key} '{config}' cannot be read: "
                         f'{error}') from error
    model = cfg.model
    model.setdefault('_scope_', cfg.get('default_scope'))
    import_scope(model['_scope_'], f'{who} ({key})')
    if cfg.get('data_preprocessor') is not None:
        model.setdefault('data_preprocessor', cfg.data_preprocessor)
    return model


def build_model(cfg, who, key):
    """The model of a model dict (:func:`read_model_config`); a type missing
    from its registry is a :class:`BuildError` naming ``who`` and ``key``."""
    try:
        return MODELS.build(cfg)
    except KeyError as error:
        if missing_type(error) is None:
            raise
        raise BuildError(f'{who}: {key}: {missing_type(error)}') from error


def load_weights(model, checkpoint, who, key):
    """Load ``checkpoint`` (path or URL, safe loader) into ``model``;
    raise a :class:`BuildError` naming ``who`` unless it fits exactly."""
    if not isinstance(checkpoint, (str, os.PathLike)):
        raise BuildError(f'{who}: {key} must be a path or URL, got '
                         f'{checkpoint!r}')
    checkpoint = os.fspath(checkpoint)
    if osp.isdir(checkpoint):
        raise BuildError(f"{who}: {key} '{checkpoint}' is a directory, not "
                         'a checkpoint file')
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise BuildError(f"{who}: {key} '{checkpoint}' does not exist")
    try:
        state = state_dict_of(
            _load_checkpoint(checkpoint, map_location='cpu'), checkpoint)
    except CheckpointError as error:
        raise BuildError(f"{who}: {key} '{checkpoint}' cannot be loaded: "
                         f'{error.reason}') from error
    reason = misfit(model, state)
    if reason:
        raise BuildError(f"{who}: {key} '{checkpoint}' {reason}")
    model.load_state_dict(state)


def fingerprint(model):
    """(3,) float64: the number, sum and sum of squares of ``model``'s
    weights, to tell whether two sets of teacher weights differ."""
    tensors = [t.detach().double() for t in model.state_dict().values()
               if t.is_floating_point()]
    return torch.tensor([sum(t.numel() for t in tensors),
                         sum(float(t.sum()) for t in tensors),
                         sum(float(t.square().sum()) for t in tensors)],
                        dtype=torch.float64)


class TeacherPool(nn.Module):
    """K frozen teachers in an ``nn.ModuleDict``: each built in its own
    package's scope, loaded from its checkpoint and frozen (no gradients,
    eval mode on every ``train()``, skipped by ``init_weights``). A
    distiller checkpoint stores each teacher's :func:`fingerprint`, not its
    weights; ``load_from`` and resume keep the configured teachers and
    warn, naming each one that differs.

    Args:
        teachers (list[dict]): ``dict(name, config, checkpoint)`` each
            (``checkpoint`` a path or URL; None: random, for smoke tests).
        student_preprocessor (nn.Module): re-normalises the student's batch
            for each teacher.
        view (TaskView): the student's view (what a teacher may be).
        precision (str): ``'fp32'``, ``'bf16'`` or ``'fp16'`` autocast
            (``channels_last``; records cast back to fp32).
    """

    checkpoint_keys_optional = True

    def __init__(self, teachers, student_preprocessor, view,
                 precision='fp32'):
        super().__init__()
        self.dtype = precision_dtype(precision)
        if not isinstance(teachers, (list, tuple)) or not teachers:
            raise BuildError('model.teachers: a list of at least one '
                             f'dict(name, config, checkpoint) is needed, got '
                             f'{teachers!r}')
        self.teachers = nn.ModuleDict()
        for index, spec in enumerate(teachers):
            key = f'model.teachers[{index}]'
            if not isinstance(spec, dict) or 'config' not in spec:
                raise BuildError(f'{key}: dict(name, config, checkpoint) is '
                                 f'needed, got {spec!r}')
            name = spec.get('name')
            if not isinstance(name, str) or not name.isidentifier() or (
                    name in self.teachers):
                raise BuildError(
                    f'{key}.name: a unique name of letters, digits and _ '
                    f'(not starting with a digit) is needed, got {name!r}')
            who = f"teacher '{name}'"
            model = build_model(
                read_model_config(spec.get('config'), who, f'{key}.config'),
                who, f'{key}.config')
            if not view.accepts_teacher(model):
                raise BuildError(
                    f'{who}: {key}.config builds a {type(model).__name__}, '
                    f'not a {view.family_name(teacher=True)} like the '
                    'student')
            if spec.get('checkpoint'):
                load_weights(model, spec['checkpoint'], who,
                             f'{key}.checkpoint')
            else:
                print_log(f'{who} has no checkpoint ({key}.checkpoint): it '
                          'keeps random weights', 'current', 30)
            model.requires_grad_(False)
            prepare_teacher(model, self.dtype)
            self.teachers[name] = model
        self.student_normalisation = normalisation_of(student_preprocessor)
        self.normalisations = {
            name: normalisation_of(t.data_preprocessor)
            for name, t in self.teachers.items()
        }
        self.fingerprints = {
            name: fingerprint(t) for name, t in self.teachers.items()}
        self.keys = {name: f'model.teachers[{index}].checkpoint'
                     for index, name in enumerate(self.teachers)}
        self.register_state_dict_post_hook(_store_fingerprints)
        self.register_load_state_dict_pre_hook(_keep_configured_teachers)
        self.eval()

    @property
    def names(self):
        return list(self.teachers)

    def items(self):
        return self.teachers.items()

    def train(self, mode=True):
        """Teachers stay in eval mode whatever the runner asks."""
        return super().train(False)

    def init_weights(self):
        """Teachers keep their loaded weights."""

    def record(self, name, view, inputs, points, student_record):
        """Teacher ``name``'s record (``view.teacher_record``) on the
        student's (B, C, H, W) batch and points, without gradients, in the
        pool's precision; every tensor of it in fp32."""
        context, inputs = autocast_inputs(self.inputs_for(name, inputs),
                                          self.dtype)
        with torch.no_grad(), context:
            record = view.teacher_record(self.teachers[name], inputs, points,
                                         student_record)
        return record if self.dtype is None else to_fp32(record)

    def inputs_for(self, name, inputs):
        """The student's (B, C, H, W) batch, normalised as teacher ``name``'s
        own preprocessor would have done it."""
        return renormalise(inputs, self.student_normalisation,
                           self.normalisations[name])


def _store_fingerprints(pool, state_dict, prefix, local_metadata):
    """State-dict post-hook: the teachers' fingerprints instead of their
    weights."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        del state_dict[key]
    for name, value in pool.fingerprints.items():
        state_dict[f'{prefix}fingerprints.{name}'] = value.clone()


def _keep_configured_teachers(pool, state_dict, prefix, *args):
    """Load-state-dict pre-hook: the configured teachers stay; warn about
    each whose stored fingerprint or weights differ from them."""
    stored = {k[len(prefix):]: state_dict.pop(k)
              for k in [k for k in state_dict if k.startswith(prefix)]}
    differ = []
    for name, teacher in pool.teachers.items():
        weights = teacher.state_dict()
        stored_print = stored.get(f'fingerprints.{name}')
        stored_weights = {k: stored.get(f'teachers.{name}.{k}')
                          for k in weights}
        if stored_print is not None and not torch.allclose(
                stored_print, pool.fingerprints[name], rtol=1e-9,
                equal_nan=True) or any(
                    old is not None and not torch.equal(old, weights[k])
                    for k, old in stored_weights.items()):
            differ.append(f"'{name}' ({pool.keys[name]})")
        state_dict.update(
            {f'{prefix}teachers.{name}.{k}': v for k, v in weights.items()})
    if differ:
        print_log(
            "the checkpoint's teachers differ from the configured ones: "
            f"{', '.join(differ)}; training goes on with the configured ones",
            'current', logging.WARNING)
