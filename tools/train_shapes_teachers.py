"""Train the shapes teachers that the shapes distillation configs expect.

    python tools/train_shapes_teachers.py [--tasks detection ...] [--force]

Reads the teachers of ``configs/_base_/distill/shapes_*.py`` (the base of
every ``configs/baselines/*/*_shapes.py`` and ``configs/mtkd_rl/*_shapes.py``)
and, for teacher ``i`` of each, trains its ``config`` with seed ``i`` from
the repository root and copies the last checkpoint to its ``checkpoint``
path (``work_dirs/shapes_teachers/…``). The shapes data (``data/shapes``,
240 training and 60 validation images) is made first if it is missing.
Teachers whose checkpoint exists are kept unless ``--force``.
"""
import argparse
import shutil
import sys
from pathlib import Path

import mtkd_mm  # noqa: F401  (quiets pkg_resources' notice before mmengine)
from mmengine.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent / 'analysis'))
from seeded_runs import REPO, Progress, log, train  # noqa: E402

TOOL = 'train_shapes_teachers'
BASES = {
    'detection': 'shapes_faster-rcnn.py',
    'one_stage_detection': 'shapes_fcos.py',
    'segmentation': 'shapes_deeplabv3.py',
    'classification': 'shapes_resnet18.py',
}
DATA = dict(num_train=240, num_val=60, img_size=128, seed=0)


def teachers_of(task):
    """[(name, config path, checkpoint path)] of a task's distill base."""
    cfg = Config.fromfile(REPO / 'configs' / '_base_' / 'distill' /
                          BASES[task])
    found = []
    for teacher in cfg.model.teachers:
        package, _, path = teacher.config.rpartition('::')
        assert package in ('', 'mtkd_mm'), teacher.config
        config = REPO / 'configs' / path if package else REPO / path
        found.append((teacher.name, config, REPO / teacher.checkpoint))
    return found


def make_data():
    root = REPO / 'data' / 'shapes'
    if (root / 'annotations').is_dir():
        return
    log(TOOL, f'making the shapes data in {root}')
    from importlib.util import module_from_spec, spec_from_file_location
    spec = spec_from_file_location(
        'make_shapes', REPO / 'tools' / 'data' / 'make_shapes.py')
    make_shapes = module_from_spec(spec)
    spec.loader.exec_module(make_shapes)
    make_shapes.make_shapes(root, **DATA)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--tasks', nargs='+', choices=sorted(BASES),
                        default=list(BASES))
    parser.add_argument('--force', action='store_true',
                        help='train again teachers whose checkpoint exists')
    args = parser.parse_args()
    make_data()
    todo = [(seed, *teacher) for task in args.tasks
            for seed, teacher in enumerate(teachers_of(task))
            if args.force or not teacher[2].is_file()]
    progress = Progress(TOOL, len(todo))
    for seed, name, config, checkpoint in todo:
        work_dir = checkpoint.parent / name
        log(TOOL, f'training {name}: {config.relative_to(REPO)}, seed '
            f'{seed}, in {work_dir.relative_to(REPO)}')
        train(config, work_dir, [f'randomness.seed={seed}'], echo=True,
              cwd=REPO)
        last = (work_dir / 'last_checkpoint').read_text().strip()
        shutil.copyfile(last, checkpoint)
        progress.finished(f'{name} -> {checkpoint.relative_to(REPO)}')
    log(TOOL, 'the shapes teachers are in work_dirs/shapes_teachers')


if __name__ == '__main__':
    main()
