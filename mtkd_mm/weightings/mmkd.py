"""MMKD: teacher weights from meta-weight networks learned with a bilevel
look-ahead of the student (Zhang, Chen, Wang, ICME 2023)."""
from contextlib import contextmanager

import torch
import torch.nn as nn
from mmengine.dist import get_world_size
from torch.func import functional_call

from mtkd_mm.errors import BuildError
from mtkd_mm.learning import (ExperienceBuffer, HardBuffer, Learner,
                              VirtualOptimizer, look_ahead)
from mtkd_mm.registry import WEIGHTINGS

from .base import TeacherWeighting, TeacherWeights

STUDENT_PARTS = ('student.', 'connectors.')


class WeightNetwork(nn.Module):
    """The reference's ``LogitsWeight`` / ``FeatureWeight``: Linear(D → D//2)
    → ReLU → Linear(D//2 → K) → softmax over teachers. (B, D) → (B, K)."""

    def __init__(self, in_features, num_teachers):
        super().__init__()
        self.layer = nn.Linear(in_features, in_features // 2)
        self.all_act = nn.Linear(in_features // 2, num_teachers)

    def forward(self, x):
        return self.all_act(self.layer(x).relu()).softmax(dim=-1)


class LatestBatch(ExperienceBuffer):
    """The raw batch of the latest student step: MMKD's quiz batch (the
    reference's default, without its hard buffer). The next step's batch
    replaces it, so a checkpoint holds none (a resumed run observes its
    next batch before its next meta step)."""

    def __init__(self):
        super().__init__(max_batches=1)

    def state_dict(self):
        return {'entries': [], 'max_batches': 1}


@WEIGHTINGS.register_module()
class MMKD(Learner, TeacherWeighting):
    """Meta-learned per-sample teacher weights (docs/methods.md#mmkd).

    Two :class:`WeightNetwork` give the weights: the logit network reads
    concat[z_t,1 … z_t,K, z_s] (B, C·(K+1)) (detection and segmentation:
    each image's mean class probabilities), the feature network row i of
    the Gram matrices concat[G_1 … G_K, G_s] (B, B·(K+1)) of the last
    feature level (a batch of another size gets uniform feature weights).
    On the reference's schedule ``LearnerUpdateHook`` takes a meta step
    (:meth:`meta_loss`): the student's own loss on a quiz batch after a
    differentiable look-ahead of the student trains both networks. The
    real student's parameters, optimiser state and BatchNorm statistics
    are left as they were (the last is ours: the reference's roll-back
    updates them once more).

    Args:
        batch_size (int): the per-rank training batch size (the feature
            network's input width).
        optim_wrapper (dict): the networks' optimiser (the reference: Adam,
            lr 1e-3, weight decay 1e-4, constant).
        update_interval (int): student steps between meta steps.
        virtual_steps (int): virtual distillation steps before the one on
            the student's own loss (the reference: 2).
        quiz (str): ``'latest'`` (the current batch, the reference's
            default) or ``'hard'`` (drawn from a
            :class:`~mtkd_mm.learning.HardBuffer`, its ``--hard_buffer``).
        hard_buffer_size (int, optional): images in the hard buffer; None:
            4 × ``batch_size`` (the reference's 256 for its batch of 64).
        hard_fraction (float): for detection and segmentation, the share of
            each batch's images that are hard (ours).
    """

    reads = ('teacher_summary', 'student_summary', 'gram')

    def __init__(self,
                 batch_size,
                 optim_wrapper=dict(
                     type='OptimWrapper',
                     optimizer=dict(type='Adam', lr=1e-3,
                                    weight_decay=1e-4)),
                 update_interval=5,
                 virtual_steps=2,
                 quiz='latest',
                 hard_buffer_size=None,
                 hard_fraction=0.25):
        super().__init__()
        self.init_learner(optim_wrapper, update_interval, buffer_size=1)
        self.batch_size = int(batch_size)
        self.virtual_steps = int(virtual_steps)
        if quiz == 'latest':
            self.experience = LatestBatch()
        elif quiz == 'hard':
            hard_buffer_size = hard_buffer_size or 4 * self.batch_size
            if hard_buffer_size < self.batch_size:
                raise ValueError(
                    f'MMKD.hard_buffer_size ({hard_buffer_size}) must be at '
                    f'least batch_size ({self.batch_size}): quiz batches '
                    'are drawn from it')
            self.experience = HardBuffer(hard_buffer_size, self.batch_size,
                                         seed=torch.initial_seed())
            self.reads = type(self).reads + ('student_ce', )
        else:
            raise ValueError(f"MMKD.quiz must be 'latest' or 'hard', got "
                             f'{quiz!r}')
        if not 0 < hard_fraction <= 1:
            raise ValueError('MMKD.hard_fraction must be in (0, 1], got '
                             f'{hard_fraction!r}')
        self.quiz = quiz
        self.hard_fraction = hard_fraction
        self.weights_carry_gradients = False
        self._look_ahead_of = None
        self._points_are_samples = None
        self._hard = None

    def setup(self, info):
        if len(info.logit_teachers) != len(info.names):
            raise ValueError('MMKD needs logits from every teacher; some '
                             'give features only')
        if not all(info.feature_channels):
            raise ValueError('MMKD needs a feature loss (its feature '
                             'weights weigh it)')
        k = len(info.names)
        self.logit_network = WeightNetwork(info.logit_dim * (k + 1), k)
        self.feature_network = WeightNetwork(self.batch_size * (k + 1), k)

    def forward(self, state):
        logit = self.logit_network(torch.cat(
            [state.teacher_summary.flatten(1), state.student_summary], 1))
        if state.num_samples == self.batch_size:
            feature = self.feature_network(state.gram)
        else:
            feature = state.uniform(state.num_teachers)
        if self.quiz == 'hard' and self.training and not (
                self.weights_carry_gradients):
            self._hard = self.hard_samples(state)
        return TeacherWeights(logit=logit, feature=feature)

    def hard_samples(self, state):
        """(B,) bool: the samples the hard buffer takes from this batch."""
        if self._points_are_samples:
            logits = state.student.logits.detach()
            return logits.argmax(dim=1) != state.points.labels
        loss = state.student_ce
        hard = torch.zeros_like(loss, dtype=torch.bool)
        count = max(1, round(self.hard_fraction * len(loss)))
        hard[loss.topk(count).indices] = True
        return hard

    def attach(self, distiller, optim_wrapper, batch_size):
        reason = distiller.view.why_no_look_ahead(distiller.student)
        if reason is not None:
            raise BuildError(f'model.weighting MMKD: {reason}')
        if batch_size != self.batch_size:
            raise BuildError(
                f'model.weighting.batch_size is {self.batch_size} but '
                f'train_dataloader.batch_size is {batch_size}: the feature '
                'network reads B × B Gram matrices')
        try:
            VirtualOptimizer(optim_wrapper.optimizer, {})
        except ValueError as error:
            raise BuildError(f'model.weighting MMKD: {error}') from None
        if optim_wrapper.clip_grad_kwargs or (
                optim_wrapper._accumulative_counts > 1):
            raise BuildError(
                'model.weighting MMKD: its look-ahead does not model '
                'optim_wrapper.clip_grad or accumulative_counts')
        if get_world_size() > 1 and any(
                isinstance(m, nn.SyncBatchNorm)
                for m in distiller.student.modules()):
            raise BuildError(
                'model.weighting MMKD: SyncBN has no second derivative, '
                "which the look-ahead needs; give the student norm_cfg="
                "dict(type='BN') (the reference uses plain BN)")
        # a tuple: the distiller is not a submodule of its weighting
        self._look_ahead_of = (distiller, optim_wrapper)
        if self.quiz == 'latest':
            distiller.view.keep_draws_for_look_ahead()
        # classification: one point per sample, and the reference's rule
        self._points_are_samples = (
            not distiller.view.summary_uses_probabilities)

    def due_after_batch(self, batch_idx):
        """The reference's rule (``train_meta.py:479``): every multiple of
        ``update_interval``, batch 0 included (and, by the hook, the
        epoch's last batch)."""
        return batch_idx % self.update_interval == 0

    def observe(self, data_batch):
        if self.quiz == 'hard':
            self.experience.put(data_batch, self._hard)
        else:
            self.experience.entries.append(dict(batch=data_batch))

    @contextmanager
    def carrying_gradients(self):
        """Weights with gradients, in the look-ahead only: the meta-gradient
        needs them, the real step does not."""
        self.weights_carry_gradients = True
        try:
            yield
        finally:
            self.weights_carry_gradients = False

    def update_loss(self, entry):
        """The student's own loss on the batch after the look-ahead."""
        distiller, optim_wrapper = self._look_ahead_of
        data = distiller.data_preprocessor(entry['batch'], True)
        return self.meta_loss(distiller, optim_wrapper.optimizer,
                              data['inputs'], data['data_samples'])

    def meta_loss(self, distiller, optimizer, inputs, data_samples):
        """Look-ahead of ``distiller``'s student and connectors with the
        virtual steps of ``optimizer``; their real values are untouched."""
        names, params = {}, {}
        for name, param in distiller.named_parameters():
            if name.startswith(STUDENT_PARTS) and param.requires_grad:
                names[param] = name
                params[name] = param.detach().requires_grad_()
        buffers = {
            name: buffer.clone()
            for name, buffer in distiller.named_buffers()
            if name.startswith(STUDENT_PARTS)
        }

        def distillation(params):
            losses = functional_call(distiller, {**params, **buffers},
                                     (inputs, data_samples), {'mode': 'loss'})
            return distiller.parse_losses({
                k: v
                for k, v in losses.items() if k.startswith('distill.')
            })[0]

        def own(params):
            student = {k[len('student.'):]: v
                       for k, v in {**params, **buffers}.items()
                       if k.startswith('student.')}
            losses = functional_call(distiller.student, student,
                                     (inputs, data_samples), {'mode': 'loss'})
            return distiller.parse_losses(losses)[0]

        with self.carrying_gradients(), distiller.teachers_run_once(), \
                distiller.view.look_ahead(distiller.student,
                                          len(data_samples),
                                          last_batch=self.quiz == 'latest'):
            params = look_ahead(
                [distillation] * self.virtual_steps + [own], params,
                VirtualOptimizer(optimizer, names))
            return own(params)
