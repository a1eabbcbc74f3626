"""Turn a distillation checkpoint into a plain student checkpoint.

    python tools/model_converters/export_student.py IN.pth OUT.pth

OUT holds only the student's weights (no teachers, connectors or weighting
state) and the dataset meta, and loads with the student's own config:
``python tools/test.py STUDENT_CONFIG OUT.pth``.
"""
import torch

import mtkd_mm  # noqa: F401  allow-lists runner checkpoint types
from mtkd_mm.engine.launch import (ToolArgumentParser, ToolError,
                                   check_checkpoint, run_tool)

PREFIX = 'student.'


def export_student(src, dst):
    """Write the student part of checkpoint ``src`` to ``dst``; return the
    number of tensors written."""
    checkpoint = check_checkpoint(src, 'src')
    state = checkpoint.get('state_dict', checkpoint)
    student = {k[len(PREFIX):]: v for k, v in state.items()
               if k.startswith(PREFIX)}
    if not student:
        raise ToolError(f"'{src}' has no '{PREFIX}*' weights: not a "
                        'distiller checkpoint')
    meta = {k: v for k, v in checkpoint.get('meta', {}).items()
            if k in ('dataset_meta', 'epoch', 'iter', 'mmengine_version')}
    torch.save({'state_dict': student, 'meta': meta}, dst)
    return len(student)


def main():
    parser = ToolArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='distillation checkpoint')
    parser.add_argument('dst', help='student checkpoint to write')
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of a bad-input error')
    args = parser.parse_args()
    count = export_student(args.src, args.dst)
    print(f'wrote {count} student tensors to {args.dst}')


if __name__ == '__main__':
    run_tool(main)
