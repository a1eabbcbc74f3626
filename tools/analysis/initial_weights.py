"""Save a model's initial weights for a seed, built and initialised as the
runner does, so that several runs (a plain student and the same student
inside a distiller) start from the same weights.

    python tools/analysis/initial_weights.py CONFIG SEED OUT.pth

Load it with ``model.init_cfg=dict(type='Pretrained', checkpoint=OUT.pth)``
in a plain run and ``model.student.init_cfg=…`` in a distillation run.
"""
import argparse

import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import set_random_seed

import mtkd_mm  # noqa: F401  (registers the mtkd_mm scope)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('seed', type=int)
    parser.add_argument('out')
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope'))
    set_random_seed(args.seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save({'state_dict': model.state_dict()}, args.out)


if __name__ == '__main__':
    main()
