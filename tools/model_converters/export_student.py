"""Turn a distillation checkpoint into a plain student checkpoint.

    python tools/model_converters/export_student.py IN.pth OUT.pth [--force]

OUT holds only the student's weights (no teachers, connectors or weighting
state) and the dataset meta, and loads with the student's own config:
``python tools/test.py STUDENT_CONFIG OUT.pth``. OUT is written whole or not
at all, is never IN, and replaces an existing file only with ``--force``.
"""
import os.path as osp

import torch

import mtkd_mm  # noqa: F401  allow-lists runner checkpoint types
from mtkd_mm.checkpoint_fit import state_dict_of
from mtkd_mm.engine.atomic_files import atomic_path
from mtkd_mm.engine.launch import (ToolArgumentParser, ToolError,
                                   check_checkpoint, run_tool)
from mtkd_mm.errors import CheckpointError

PREFIX = 'student.'


def check_output(src, dst, force):
    """One line unless ``dst`` can be written: not ``src``, not a
    directory, in an existing directory, new unless ``force``."""
    if osp.isdir(dst):
        raise ToolError(f"dst '{dst}' is a directory; name a file")
    if not osp.isdir(osp.dirname(osp.abspath(dst))):
        raise ToolError(f"dst '{dst}': its directory does not exist")
    if osp.exists(dst):
        if osp.exists(src) and osp.samefile(src, dst):
            raise ToolError(f"dst '{dst}' is the source checkpoint; name "
                            'another file')
        if not force:
            raise ToolError(f"dst '{dst}' exists; --force replaces it")


def export_student(src, dst, force=False):
    """Write the student part of checkpoint ``src`` to ``dst``; return the
    number of tensors written."""
    check_output(src, dst, force)
    checkpoint = check_checkpoint(src, 'src')
    try:
        state = state_dict_of(checkpoint, src)
    except CheckpointError as error:
        raise ToolError(f'src: {error}') from error
    student = {k[len(PREFIX):]: v for k, v in state.items()
               if k.startswith(PREFIX)}
    if not student:
        raise ToolError(f"'{src}' has no '{PREFIX}*' weights: not a "
                        'distiller checkpoint')
    meta = {k: v for k, v in checkpoint.get('meta', {}).items()
            if k in ('dataset_meta', 'epoch', 'iter', 'mmengine_version')}
    with atomic_path(dst) as temporary:
        torch.save({'state_dict': student, 'meta': meta}, temporary)
    return len(student)


def main():
    parser = ToolArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='distillation checkpoint')
    parser.add_argument('dst', help='student checkpoint to write')
    parser.add_argument('--force', action='store_true',
                        help='replace dst if it exists')
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of a bad-input error')
    args = parser.parse_args()
    count = export_student(args.src, args.dst, args.force)
    print(f'wrote {count} student tensors to {args.dst}')


if __name__ == '__main__':
    run_tool(main)
