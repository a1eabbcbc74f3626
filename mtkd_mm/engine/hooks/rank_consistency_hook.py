"""Check that every rank of a distributed run holds the same weights."""
import hashlib

import torch
from mmengine.dist import all_gather_object, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mtkd_mm.registry import HOOKS


def tensor_digests(module, with_buffers=False):
    """Map each parameter (and buffer) name to the sha256 of its bytes."""
    tensors = dict(module.named_parameters())
    if with_buffers:
        tensors.update(module.named_buffers())
    return {
        name: hashlib.sha256(
            t.detach().cpu().contiguous().view(torch.uint8).numpy()
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
    """

    priority = 'VERY_LOW'

    def __init__(self, interval=0, with_buffers=False):
        self.interval = interval
        self.with_buffers = with_buffers

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
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        digests = tensor_digests(model, self.with_buffers)
        gathered = all_gather_object(digests)
        runner.logger.info(
            f'RankConsistencyHook at iter {runner.iter}: model digests per '
            f'rank: {[model_digest(d) for d in gathered]}')
        for rank, other in enumerate(gathered[1:], start=1):
            differing = [n for n in digests if other.get(n) != digests[n]]
            if differing or other.keys() != digests.keys():
                raise RuntimeError(
                    f'rank {rank} holds different weights than rank 0 at '
                    f'iter {runner.iter}: {differing[:5] or "other tensors"}')
