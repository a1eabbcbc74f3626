"""MMKD: teacher weights from meta-weight networks learned with a bilevel
look-ahead of the student (Zhang, Chen, Wang, ICME 2023)."""
import torch
import torch.nn as nn

from mtkd_mm.errors import BuildError
from mtkd_mm.learning import ExperienceBuffer, HardBuffer, Learner
from mtkd_mm.registry import WEIGHTINGS

from .base import TeacherWeighting, TeacherWeights


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
    """Meta-learned per-sample teacher weights (docs/methods.md#mmkd):
    a logit network on the teachers' and student's logits (B, C·(K+1))
    and a feature network on rows of their Gram matrices (B, B·(K+1)),
    trained by ``LearnerUpdateHook``'s meta steps (:meth:`update_loss`):
    the student's own loss on a quiz batch after a differentiable
    look-ahead (:class:`~mtkd_mm.learning.StudentLookAhead`, given to
    :meth:`attach`); the real student is left as it was.

    Args:
        batch_size (int): per-rank batch size (the feature network's width).
        optim_wrapper (dict), update_interval (int): the networks' optimiser
            and the steps between meta steps (the reference: Adam lr 1e-3).
        virtual_steps (int): virtual distillation steps (the reference: 2).
        quiz (str): ``'latest'`` (the reference's default) or ``'hard'``
            (a :class:`~mtkd_mm.learning.HardBuffer`, its ``--hard_buffer``),
            with ``hard_buffer_size`` (None: 4 × ``batch_size``) and
            ``hard_fraction`` (detection and segmentation, ours).
    """

    reads = ('teacher_summary', 'student_summary', 'gram')
    weights_carry_gradients = True

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
        self._look_ahead = None
        self._hard = None

    def setup(self, info):
        info.require_logits_from_every_teacher('MMKD')
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
        # not in a look-ahead, whose state keeps its gradients
        if self.quiz == 'hard' and self.training and not (
                state.keep_gradients):
            self._hard = self.hard_samples(state)
        return TeacherWeights(logit=logit, feature=feature)

    def hard_samples(self, state):
        """(B,) bool: the samples the hard buffer takes from this batch."""
        if not state.summary_uses_probabilities:
            # classification: one point per sample, and the reference's rule
            logits = state.student.logits.detach()
            return logits.argmax(dim=1) != state.points.labels
        loss = state.student_ce
        hard = torch.zeros_like(loss, dtype=torch.bool)
        count = max(1, round(self.hard_fraction * len(loss)))
        hard[loss.topk(count).indices] = True
        return hard

    def attach(self, look_ahead, batch_size):
        reason = look_ahead.why_not()
        if reason is not None:
            raise BuildError(f'model.weighting MMKD: {reason}')
        if batch_size != self.batch_size:
            raise BuildError(
                f'model.weighting.batch_size is {self.batch_size} but '
                f'train_dataloader.batch_size is {batch_size}: the feature '
                'network reads B × B Gram matrices')
        self._look_ahead = look_ahead.loss
        if self.quiz == 'latest':
            look_ahead.keep_draws()

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

    def update_loss(self, entry):
        """The student's own loss on the batch after the look-ahead."""
        return self._look_ahead(entry['batch'], self.virtual_steps,
                                self.quiz == 'latest')
