"""Files written whole or not at all: into a temporary file beside the
target, then renamed over it, so that a kill mid-write leaves the old file
(or none), never a partial one."""
import os
import os.path as osp
from contextlib import contextmanager

from mmengine.fileio import LocalBackend, register_backend


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success it is renamed to
    ``path``, on failure removed."""
    directory, name = osp.split(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    temporary = osp.join(directory, f'.{name}.{os.getpid()}.tmp')
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if osp.exists(temporary):
            os.remove(temporary)


@register_backend('mtkd_mm_atomic_local')
class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend with atomic writes; ``tools/train.py``
    gives it to the ``CheckpointHook`` (checkpoints, ``last_checkpoint``)."""

    def put(self, obj, filepath):
        with atomic_path(filepath) as temporary, open(temporary, 'wb') as f:
            f.write(obj)

    def put_text(self, obj, filepath, encoding='utf-8'):
        with atomic_path(filepath) as temporary, open(
                temporary, 'w', encoding=encoding) as f:
            f.write(obj)
