"""When and how the MTKD-RL agent learns, across ranks and checkpoints."""
import time

from mmengine.dist import all_gather_object, broadcast, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mtkd_mm.registry import HOOKS

CHECKPOINT_KEY = 'mtkd_rl_agent'


@HOOKS.register_module()
class MTKDRLAgentHook(Hook):
    """Updates the distiller's :class:`~mtkd_mm.weightings.MTKDRL` agent.

    Every ``update_interval`` iterations (and at each epoch end with
    ``update_at_epoch_end``) the agent replays its stored experience. Under
    DDP every rank replays the experience of all ranks in rank order, then
    rank 0's agent is broadcast, so the agents stay bitwise identical. The
    agent's optimiser state, its unreplayed experience and the update count
    go into the runner's checkpoint and come back on ``--resume``; the agent
    weights and λ are part of the model's state dict (and are dropped by
    ``export_student.py``).

    Args:
        update_interval (int): iterations between updates (reference: 1000).
        update_at_epoch_end (bool): also update after every epoch.
    """

    priority = 'LOW'

    def __init__(self, update_interval=1000, update_at_epoch_end=True):
        self.update_interval = update_interval
        self.update_at_epoch_end = update_at_epoch_end
        self.updates = 0
        self.update_seconds = 0.0

    @staticmethod
    def weighting(runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        return model.weighting

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if self.every_n_train_iters(runner, self.update_interval):
            self.update(runner)

    def after_train_epoch(self, runner):
        if self.update_at_epoch_end:
            self.update(runner)

    def update(self, runner):
        weighting = self.weighting(runner)
        batches = weighting.experience.drain()
        if get_world_size() > 1:
            batches = [b for rank in all_gather_object(batches) for b in rank]
        if not batches:
            return
        start = time.perf_counter()
        weighting.update(batches)
        if get_world_size() > 1:
            for tensor in weighting.state_dict().values():
                broadcast(tensor, src=0)
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
