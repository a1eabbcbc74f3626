"""The learner contract: a part of the distiller that learns while the
student is distilled (the MTKD-RL agent, the MMKD networks)."""
from abc import ABCMeta

import torch

from .experience import ExperienceBuffer


class Learner(metaclass=ABCMeta):
    """Mixin of an ``nn.Module`` (weighting or temperature) that stores
    experience in the student's steps and learns from it in updates.

    It learns only through :class:`~mtkd_mm.engine.LearnerUpdateHook`:
    the hook builds the optimiser of all its parameters from
    ``optim_wrapper`` with MMEngine's ``build_optim_wrapper``, calls
    :meth:`learn` on its schedule, averages gradients over ranks, and
    saves and resumes the optimiser and :attr:`experience` with the
    runner's checkpoint. ``tools/train.py`` refuses a config with a learner
    and without the hook.

    Call :meth:`init_learner` in ``__init__`` and implement
    :meth:`update_loss` (one step per stored entry) or :meth:`learn`.
    """

    def init_learner(self, optim_wrapper, update_interval, buffer_size):
        """
        Args:
            optim_wrapper (dict): MMEngine optim wrapper config of the
                learner's parameters, e.g.
                ``dict(type='OptimWrapper', optimizer=dict(type='SGD',
                lr=0.1))``.
            update_interval (int): student steps between updates (in
                epoch-based loops: batches of the epoch, see
                :meth:`due_after_batch`).
            buffer_size (int): most entries kept between updates.
        """
        if not isinstance(optim_wrapper, dict) or (
                'optimizer' not in optim_wrapper):
            raise ValueError(
                f'{type(self).__name__}.optim_wrapper must be an optim '
                'wrapper config with an optimizer, e.g. '
                "dict(type='OptimWrapper', optimizer=dict(type='SGD', "
                f'lr=0.1)); got {optim_wrapper!r}')
        if int(update_interval) < 1:
            raise ValueError(f'{type(self).__name__}.update_interval must be '
                             f'a positive integer, got {update_interval!r}')
        self.optim_wrapper_cfg = dict(optim_wrapper)
        self.update_interval = int(update_interval)
        self.experience = ExperienceBuffer(buffer_size)

    def attach(self, look_ahead, batch_size):
        """Called by the hook before the run with the
        :class:`~mtkd_mm.learning.StudentLookAhead` that the distiller
        offers (with the student's optimiser) and the per-rank training
        batch size (raise a ``BuildError`` if they cannot work); default:
        nothing."""

    def due_after_batch(self, batch_idx):
        """Whether an epoch-based loop updates after the epoch's batch
        ``batch_idx`` (from 0); the hook adds an update after the epoch's
        last batch when that is not due. Default, the MTKD-RL reference's
        rule: the non-zero multiples of ``update_interval``."""
        return batch_idx % self.update_interval == 0 and batch_idx != 0

    def observe(self, data_batch):
        """Called by the hook after every student step with its raw batch
        (a learner that learns on batches stores it); default: nothing."""

    def learn(self, optim_wrapper, entries, reduce_gradients=None):
        """Learn from the stored ``entries`` (oldest first) with
        ``optim_wrapper`` over all the learner's parameters; return the
        losses to log. Default: :func:`replay`, one step per entry."""
        return replay(self, optim_wrapper, entries, reduce_gradients)

    def update_loss(self, entry):
        """The scalar loss of one stored entry (a dict of tensors on the
        learner's device), for :func:`replay`."""
        raise NotImplementedError(
            f'{type(self).__name__} implements neither update_loss nor '
            'learn')

    def after_update_step(self, entry):
        """Called after each optimiser step (e.g. to move a baseline)."""


def replay(learner, optim_wrapper, entries, reduce_gradients=None):
    """One optimiser step per stored entry, oldest first.

    Args:
        learner (Learner): the module that learns.
        optim_wrapper (OptimWrapper): over the learner's parameters.
        entries (list[dict]): e.g. ``learner.experience.drain()``.
        reduce_gradients (callable, optional): called with the list of
            gradients before each step; under DDP it averages them over
            ranks in place (the reference wraps its agent in DDP).

    Returns:
        list[float]: the loss of each step.
    """
    device = next(learner.parameters()).device
    losses = []
    for entry in entries:
        entry = {
            name: value.to(device) if torch.is_tensor(value) else value
            for name, value in entry.items()
        }
        optim_wrapper.zero_grad()
        loss = learner.update_loss(entry)
        optim_wrapper.backward(loss)
        if reduce_gradients is not None:
            reduced_gradients(learner.parameters(), reduce_gradients)
        optim_wrapper.step()
        learner.after_update_step(entry)
        losses.append(float(loss))
    optim_wrapper.zero_grad()
    return losses


def reduced_gradients(params, reduce_gradients):
    """Call ``reduce_gradients`` (averaging over ranks) with the gradients
    of ``params``; one without a gradient gets zeros first, so that every
    rank reduces the same list even where a part got no gradient on it
    (e.g. MMKD's feature network on a smaller last batch)."""
    params = list(params)
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    reduce_gradients([p.grad for p in params])
