"""When and how the MTKD-RL agent learns, across ranks and checkpoints."""
import time
from functools import partial

from mmengine.dist import (all_gather_object, all_reduce_params, broadcast,
                           get_world_size)
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop

from mtkd_mm.registry import HOOKS

CHECKPOINT_KEY = 'mtkd_rl_agent'


@HOOKS.register_module()
class MTKDRLAgentHook(Hook):
    """Updates the distiller's :class:`~mtkd_mm.weightings.MTKDRL` agent.

    Schedule:
    - epoch-based loops (the reference): an update after each batch whose
      index within the epoch is a non-zero multiple of ``update_interval``,
      and one at the end of every epoch over what is left;
    - iteration-based loops (ours): an update every ``update_interval``
      iterations.

    An update replays the stored batches, one SGD step each. Under DDP each
    rank replays its own batches and every step averages the gradients over
    the ranks (as the reference's DDP-wrapped agent does), so the number of
    steps does not grow with the number of ranks and the agents stay
    bitwise identical; the agent's buffers (the REINFORCE baseline) are
    then broadcast from rank 0. The agent's optimiser state, its unreplayed
    experience and the update count go into the runner's checkpoint and
    come back on ``--resume``; the agent weights and λ are part of the
    model's state dict (and are dropped by ``export_student.py``).

    Args:
        update_interval (int): batches between updates (reference: 1000).
    """

    priority = 'LOW'

    def __init__(self, update_interval=1000):
        self.update_interval = update_interval
        self.updates = 0
        self.update_seconds = 0.0

    @staticmethod
    def weighting(runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        return model.weighting

    @staticmethod
    def by_epoch(runner):
        return isinstance(runner.train_loop, EpochBasedTrainLoop)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if self.by_epoch(runner):
            due = batch_idx % self.update_interval == 0 and batch_idx != 0
        else:
            due = self.every_n_train_iters(runner, self.update_interval)
        if due:
            self.update(runner)

    def after_train_epoch(self, runner):
        if self.by_epoch(runner):
            self.update(runner)

    def update(self, runner):
        weighting = self.weighting(runner)
        batches = weighting.experience.drain()
        reduce_gradients = None
        if get_world_size() > 1:
            counts = all_gather_object(len(batches))
            if len(set(counts)) > 1:
                raise RuntimeError(
                    f'MTKD-RL agent update: the ranks hold {counts} batches '
                    'of experience; each step averages gradients over '
                    'ranks, so they must hold the same number')
            reduce_gradients = partial(all_reduce_params, op='mean')
        if not batches:
            return
        start = time.perf_counter()
        weighting.update(batches, reduce_gradients)
        if reduce_gradients is not None:
            for buffer in weighting.buffers():
                broadcast(buffer, src=0)
        self.update_seconds += time.perf_counter() - start
        self.updates += 1
        runner.message_hub.update_scalar(
            'train/mtkd_rl.update_seconds_per_iter',
            self.update_seconds / (runner.iter + 1))
        runner.logger.info(
            f'MTKD-RL agent update {self.updates}: replayed {len(batches)} '
            f'batches at iter {runner.iter + 1}')

    def before_save_checkpoint(self, runner, checkpoint):
        weighting = self.weighting(runner)
        checkpoint[CHECKPOINT_KEY] = dict(
            optimizer=weighting.optimizer.state_dict(),
            experience=weighting.experience.state_dict(),
            updates=self.updates,
            update_seconds=self.update_seconds)

    def after_load_checkpoint(self, runner, checkpoint):
        if CHECKPOINT_KEY not in checkpoint:
            return
        saved = checkpoint[CHECKPOINT_KEY]
        weighting = self.weighting(runner)
        weighting.optimizer.load_state_dict(saved['optimizer'])
        weighting.experience.load_state_dict(saved['experience'])
        self.updates = saved['updates']
        self.update_seconds = saved['update_seconds']
