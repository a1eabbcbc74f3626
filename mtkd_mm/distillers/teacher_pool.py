"""Build, load and freeze the teachers."""
import os.path as osp

import torch.nn as nn
from mmengine.config import ConfigDict
from mmengine.logging import print_log
from mmengine.registry import DefaultScope
from mmengine.runner.checkpoint import _load_checkpoint

from mtkd_mm.checkpoint_safety import why_unloadable
from mtkd_mm.config_refs import read_config
from mtkd_mm.errors import BuildError
from mtkd_mm.packages import import_scope
from mtkd_mm.registry import MODELS

from .normalisation import normalisation_of, renormalise


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


def load_weights(model, checkpoint, who, key):
    """Load ``checkpoint`` (path or URL, safe loader) into ``model``;
    raise a :class:`BuildError` naming ``who`` unless it fits exactly."""
    if osp.isdir(checkpoint):
        raise BuildError(f"{who}: {key} '{checkpoint}' is a directory, not "
                         'a checkpoint file')
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise BuildError(f"{who}: {key} '{checkpoint}' does not exist")
    try:
        loaded = _load_checkpoint(checkpoint, map_location='cpu')
    except Exception as error:
        raise BuildError(
            f"{who}: {key} '{checkpoint}' cannot be loaded: "
            f'{why_unloadable(checkpoint, error)}') from error
    if not isinstance(loaded, dict):
        raise BuildError(f"{who}: {key} '{checkpoint}' holds a "
                         f'{type(loaded).__name__}, not a state dict')
    state = loaded.get('state_dict', loaded)
    state = {k[len('module.'):] if k.startswith('module.') else k: v
             for k, v in state.items()}
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    misshapen = sorted(k for k in set(state) & set(expected)
                       if state[k].shape != expected[k].shape)
    if missing or unexpected or misshapen:
        foreign = sorted({k.split('.')[0] for k in unexpected} -
                         {k.split('.')[0] for k in expected})
        hint = (f", which has no {', '.join(foreign)}: a checkpoint of "
                'another model?' if foreign else '')
        raise BuildError(
            f"{who}: {key} '{checkpoint}' does not fit its config "
            f'({type(model).__name__}{hint}): '
            f'missing {missing[:5]} ({len(missing)}), unexpected '
            f'{unexpected[:5]} ({len(unexpected)}), other shapes '
            f'{misshapen[:5]} ({len(misshapen)})')
    model.load_state_dict(state)


class TeacherPool(nn.Module):
    """K frozen teachers in an ``nn.ModuleDict``.

    Each teacher is built in its own package's scope, loaded from its
    checkpoint and frozen: no gradients, eval mode re-applied on every
    ``train()``, skipped by ``init_weights``. The distiller keeps it out of
    the optimiser.

    Args:
        teachers (list[dict]): each ``dict(name, config, checkpoint)``;
            ``config`` is a model dict, a config file or ``mmdet::…``;
            ``checkpoint`` a path or URL (None leaves random weights, with a
            warning: for smoke tests only).
        student_preprocessor (nn.Module): the student's data preprocessor,
            to re-normalise its batch for each teacher.
        view (TaskView): the student's view, which says what a teacher may
            be.
    """

    def __init__(self, teachers, student_preprocessor, view):
        super().__init__()
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
            if not name or name in self.teachers:
                raise BuildError(f'{key}.name: a unique name is needed, got '
                                 f'{name!r}')
            who = f"teacher '{name}'"
            model = MODELS.build(
                read_model_config(spec.get('config'), who, f'{key}.config'))
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
            self.teachers[name] = model
        self.student_normalisation = normalisation_of(student_preprocessor)
        self.normalisations = {
            name: normalisation_of(t.data_preprocessor)
            for name, t in self.teachers.items()
        }
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

    def inputs_for(self, name, inputs):
        """The student's (B, C, H, W) batch, normalised as teacher ``name``'s
        own preprocessor would have done it."""
        return renormalise(inputs, self.student_normalisation,
                           self.normalisations[name])
