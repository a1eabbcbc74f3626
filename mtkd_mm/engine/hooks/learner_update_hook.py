"""When and how the distiller's learners learn, across ranks and
checkpoints."""
import time
from functools import partial

from mmengine.dist import (all_gather_object, all_reduce_params, broadcast,
                           get_world_size)
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.runner import EpochBasedTrainLoop

from mtkd_mm.engine.distiller_of import distiller_of
from mtkd_mm.registry import HOOKS

CHECKPOINT_KEY = 'learners'


def train_batch_size(runner):
    """The per-rank training batch size, also under a batch sampler
    (mmdet's ``AspectRatioBatchSampler``)."""
    loader = runner.train_dataloader
    return loader.batch_size or getattr(loader.batch_sampler, 'batch_size',
                                        None)


@HOOKS.register_module()
class LearnerUpdateHook(Hook):
    """Trains every :class:`~mtkd_mm.learning.Learner` of the distiller
    (``model.learners()``: the weighting, the temperature), each with its
    own optimiser (built by MMEngine from the learner's ``optim_wrapper``,
    untouched by the student's schedulers), on its schedule (the
    references' batches within an epoch, or every ``update_interval``
    iterations), averaged over DDP ranks, checkpointed under ``learners``
    and logged as ``train/<name>.update_loss``. Each step in detail:
    docs/extending.md#what-learnerupdatehook-does.

    Args:
        log_interval (int): iterations between a learner's INFO lines.
    """

    # before the LoggerHook (BELOW_NORMAL): an update's loss is logged at
    # its iteration; before the CheckpointHook: the checkpoint holds it
    priority = 'NORMAL'

    def __init__(self, log_interval=50):
        if not isinstance(log_interval, int) or log_interval < 1:
            raise ValueError('LearnerUpdateHook.log_interval must be a '
                             f'positive integer, got {log_interval!r}')
        self.log_interval = log_interval
        self.optim_wrappers = {}
        self.updates = {}
        self.update_seconds = {}
        # name -> [iteration of the last line (None: none yet), updates and
        # batches since]
        self.unlogged = {}
        # name -> whether the epoch's latest batch was due
        self.latest_batch_due = {}

    @staticmethod
    def learners(runner):
        return distiller_of(runner).learners()

    def before_run(self, runner):
        if not isinstance(runner.optim_wrapper, OptimWrapper):
            return  # tools/test.py, runner.val(): nothing learns
        look_ahead = distiller_of(runner).student_look_ahead(
            runner.optim_wrapper)
        for name, learner in self.learners(runner).items():
            learner.attach(look_ahead, train_batch_size(runner))
            self.optim_wrappers[name] = build_optim_wrapper(
                learner, learner.optim_wrapper_cfg)
            self.updates[name] = 0
            self.update_seconds[name] = 0.0
            self.unlogged[name] = [None, 0, 0]

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        by_epoch = isinstance(runner.train_loop, EpochBasedTrainLoop)
        for name, learner in self.learners(runner).items():
            learner.observe(data_batch)
            if by_epoch:
                due = learner.due_after_batch(batch_idx)
                self.latest_batch_due[name] = due
            else:
                due = self.every_n_train_iters(runner,
                                               learner.update_interval)
            if due:
                self.update(runner, name, learner, runner.iter + 1)

    def after_train_epoch(self, runner):
        if isinstance(runner.train_loop, EpochBasedTrainLoop):
            for name, learner in self.learners(runner).items():
                if not self.latest_batch_due.pop(name, False):
                    self.update(runner, name, learner, runner.iter)

    def update(self, runner, name, learner, iters_done):
        entries = learner.experience.drain()
        reduce_gradients = None
        if get_world_size() > 1:
            counts = all_gather_object(len(entries))
            if len(set(counts)) > 1:
                raise RuntimeError(
                    f'{name} update: the ranks hold {counts} entries of '
                    'experience; each step averages gradients over ranks, '
                    'so they must hold the same number')
            reduce_gradients = partial(all_reduce_params, op='mean')
        if not entries:
            return
        start = time.perf_counter()
        losses = learner.learn(self.optim_wrappers[name], entries,
                               reduce_gradients)
        if reduce_gradients is not None:
            for buffer in learner.buffers():
                broadcast(buffer, src=0)
        self.update_seconds[name] += time.perf_counter() - start
        self.updates[name] += 1
        hub = runner.message_hub
        hub.update_scalar(f'train/{name}.update_loss',
                          sum(losses) / len(losses))
        hub.update_scalar(f'train/{name}.update_seconds_per_iter',
                          self.update_seconds[name] / iters_done)
        self._log(runner, name, learner, len(entries), iters_done)

    def _log(self, runner, name, learner, batches, iters_done):
        unlogged = self.unlogged[name]
        unlogged[1] += 1
        unlogged[2] += batches
        last_line, updates, batches = unlogged
        if (last_line is not None
                and iters_done - last_line < self.log_interval):
            return
        done = self.updates[name]
        which = (f'update {done}' if updates == 1 else
                 f'updates {done - updates + 1}-{done}')
        runner.logger.info(
            f'{name} ({type(learner).__name__}) {which}: replayed {batches}'
            f' batches at iter {iters_done}')
        self.unlogged[name] = [iters_done, 0, 0]

    def before_save_checkpoint(self, runner, checkpoint):
        checkpoint[CHECKPOINT_KEY] = {
            name: dict(
                optim_wrapper=self.optim_wrappers[name].state_dict(),
                experience=learner.experience.state_dict(),
                updates=self.updates[name],
                update_seconds=self.update_seconds[name])
            for name, learner in self.learners(runner).items()
        }

    def after_load_checkpoint(self, runner, checkpoint):
        saved = checkpoint.get(CHECKPOINT_KEY, {})
        for name, learner in self.learners(runner).items():
            if name not in self.optim_wrappers:
                continue  # not training
            if name not in saved:
                runner.logger.warning(
                    f'the checkpoint holds no optimiser state or experience '
                    f'of {name}; it goes on with fresh ones')
                continue
            self.optim_wrappers[name].load_state_dict(
                saved[name]['optim_wrapper'])
            learner.experience.load_state_dict(saved[name]['experience'])
            self.updates[name] = saved[name]['updates']
            self.update_seconds[name] = saved[name]['update_seconds']
