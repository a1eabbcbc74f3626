"""Build distillers from the repo's configs, in-process, for the tests."""
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mtkd_mm.registry import MODELS
from tests.conftest import REPO

CLS_DISTILL = REPO / 'configs' / 'baselines' / 'aver' / \
    'resnet18_narrow_shapes.py'


def load_cfg(path, **options):
    """A config with ``--cfg-options``-style overrides applied."""
    cfg = Config.fromfile(str(path))
    cfg.merge_from_dict(options)
    return cfg


def build_model(cfg):
    """Build ``cfg.model`` in the config's default scope, as the runner
    does (the top-level ``data_preprocessor`` goes to the model)."""
    model_cfg = cfg.model
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        return MODELS.build(model_cfg)


def save_random_teacher(config, path, **options):
    """Save a randomly initialised model of ``config`` as a checkpoint."""
    model = build_model(load_cfg(config, **options))
    torch.save({'state_dict': model.state_dict()}, path)
    return path


def with_teacher_checkpoints(path, checkpoints, **options):
    """The distill config at ``path`` with these teacher checkpoints."""
    options.update({
        f'model.teachers.{i}.checkpoint': str(c)
        for i, c in enumerate(checkpoints)
    })
    return load_cfg(path, **options)
