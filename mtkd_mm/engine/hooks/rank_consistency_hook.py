"""Check that every rank of a distributed run holds the same weights."""
import hashlib

import torch
from mmengine.dist import all_gather_object, get_world_size
from mmengine.hooks import Hook

from mtkd_mm.engine.distiller_of import distiller_of
from mtkd_mm.registry import HOOKS


def tensor_digests(module, with_buffers=False, prefixes=None):
    """Map each parameter (and buffer) name, among those starting with one
    of ``prefixes`` (all when None), to the sha256 of its bytes."""
    tensors = dict(module.named_parameters())
    if with_buffers:
        tensors.update(module.named_buffers())
    if prefixes:
        tensors = {n: t for n, t in tensors.items()
                   if n.startswith(tuple(prefixes))}
    return {
        name: hashlib.sha256(
            t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy()
        ).hexdigest()
        for name, t in sorted(tensors.items())
    }


def model_digest(digests):
    """One sha256 over all tensor digests, in name order."""
    joined = ''.join(f'{name}:{d};' for name, d in sorted(digests.items()))
    return hashlib.sha256(joined.encode()).hexdigest()


@HOOKS.register_module()
class RankConsistencyHook(Hook):
    """Raise if the ranks' parameters are not bitwise identical.

    Runs at the end of training and, with ``interval > 0``, every ``interval``
    iterations. Rank 0 logs the digest of every rank. Buffers (e.g. BN
    running statistics) are compared only with ``with_buffers=True``: DDP in
    MMEngine does not broadcast them, so they legitimately differ.

    Args:
        interval (int): iterations between checks; 0 checks only at the end.
        with_buffers (bool): also compare the model's buffers.
        prefixes (list[str], optional): compare only the tensors whose
            names start with one of these (e.g. ``['weighting.']``).
    """

    priority = 'VERY_LOW'

    def __init__(self, interval=0, with_buffers=False, prefixes=None):
        self.interval = interval
        self.with_buffers = with_buffers
        self.prefixes = prefixes

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if self.interval > 0 and self.every_n_train_iters(
                runner, self.interval):
            self.check(runner)

    def after_train(self, runner):
        self.check(runner)

    def check(self, runner):
        """Gather every rank's digests; raise naming the first difference."""
        if get_world_size() == 1:
            return
        model = distiller_of(runner)
        digests = tensor_digests(model, self.with_buffers, self.prefixes)
        gathered = all_gather_object(digests)
        runner.logger.info(
            f'RankConsistencyHook at iter {runner.iter}: model digests per '
            f'rank: {[model_digest(d) for d in gathered]}')
        reference = gathered[0]
        for rank, other in enumerate(gathered[1:], start=1):
            differing = [n for n in reference if other.get(n) != reference[n]]
            if differing or other.keys() != reference.keys():
                raise RuntimeError(
                    f'rank {rank} holds different weights than rank 0 at '
                    f'iter {runner.iter}: {differing[:5] or "other tensors"}')
