"""MTKD-RL: teacher weights from a reinforcement-learning agent
(Yang et al., AAAI 2025)."""
import torch
import torch.nn as nn
from mmengine.logging import MessageHub

from mtkd_mm.learning import Learner
from mtkd_mm.registry import WEIGHTINGS

from .base import TeacherWeighting, TeacherWeights, dirichlet
from .ca_mkd import confidence_weights


class PolicyNetwork(nn.Module):
    """The reference ``PolicyTrans``: Linear(S → hidden, no bias) → ReLU, then
    two heads Linear(hidden → K) with a softmax over teachers.

    (B, S) → logit and feature actions, (B, K) each.
    """

    def __init__(self, state_dim, num_teachers, hidden=128):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(state_dim, hidden, bias=False), nn.ReLU(inplace=True))
        self.logit_head = nn.Linear(hidden, num_teachers)
        self.feature_head = nn.Linear(hidden, num_teachers)

    def forward(self, state):
        hidden = self.body(state)
        return (self.logit_head(hidden).softmax(dim=1),
                self.feature_head(hidden).softmax(dim=1))


def agent_state(state):
    """The agent input ``concat_k [cos_ik, KL_ik, CE_ik, e_t,k,i, z_t,k,i]``,
    (B, Σ_k (D_k + C + 3)), detached and not normalised (the reference)."""
    parts = []
    for k in range(state.num_teachers):
        parts += [
            state.cosine[:, k:k + 1], state.kl[:, k:k + 1],
            state.teacher_ce[:, k:k + 1], state.embeddings[k],
            state.teacher_summary[:, k]
        ]
    return torch.cat(parts, dim=1).detach()


def standardised_reward(reward):
    """``clamp((R − mean) / std, 0, 1)`` over the batch: (B,) → (B,)."""
    std = reward.std() if reward.numel() > 1 else reward.new_tensor(0.0)
    if not torch.isfinite(std) or std == 0:
        return torch.zeros_like(reward)
    return ((reward - reward.mean()) / std).clamp(0, 1)


def surrogate_loss(actions, reward):
    """The reference update: ``mean_{i,k} R_i · (−log a_ik)`` for one head
    (``BCE(a, 1; weight=R)``). actions (B, K), reward (B,)."""
    return (reward[:, None] * -actions.clamp(min=1e-12).log()).mean()


@WEIGHTINGS.register_module()
class MTKDRL(Learner, TeacherWeighting):
    """The MTKD-RL agent and its fusion with confidence- and
    divergence-aware weights (docs/methods.md#mtkd-rl). The agent reads
    each sample's state and stores the batch's experience, warm-up
    included; ``LearnerUpdateHook`` replays it every ``update_interval``
    batches (:meth:`update_loss`).

    Args:
        fusion (str): ``'average'`` (the reference) or ``'dynamic'``
            (learnt mixing weights, the reference's ``--dynamic``).
        warmup_epochs, warmup_iters (int): weights 1 while either holds
            (the reference: its first epoch; iterations are ours).
        policy (str): ``'surrogate'`` (the released code) or
            ``'reinforce'`` (Dirichlet samples, running-mean baseline; ours).
        concentration (float), baseline_momentum (float): of REINFORCE.
        hidden (int): the agent's hidden width.
        optim_wrapper (dict), update_interval (int), buffer_size (int):
            the agent's optimiser and update schedule (the reference: SGD
            lr 0.1, ``agent_step`` 1000).
    """

    reads = ('kl', 'feature_loss', 'teacher_ce', 'student_ce', 'cosine',
             'embeddings', 'teacher_summary')

    def __init__(self,
                 fusion='average',
                 warmup_epochs=0,
                 warmup_iters=0,
                 policy='surrogate',
                 concentration=50.0,
                 hidden=128,
                 optim_wrapper=dict(
                     type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)),
                 update_interval=1000,
                 buffer_size=1000,
                 baseline_momentum=0.9):
        super().__init__()
        if fusion not in ('average', 'dynamic'):
            raise ValueError(f"MTKDRL.fusion must be 'average' or 'dynamic', "
                             f'got {fusion!r}')
        if policy not in ('surrogate', 'reinforce'):
            raise ValueError("MTKDRL.policy must be 'surrogate' or "
                             f"'reinforce', got {policy!r}")
        self.fusion = fusion
        self.warmup_epochs = warmup_epochs
        self.warmup_iters = warmup_iters
        self.policy = policy
        self.concentration = concentration
        self.hidden = hidden
        self.baseline_momentum = baseline_momentum
        self.init_learner(optim_wrapper, update_interval, buffer_size)
        self.register_buffer('baseline', torch.zeros(()))
        if fusion == 'dynamic':
            self.fusion_logits = nn.Parameter(torch.ones(2, 3))
        self.agent = None

    def setup(self, info):
        info.require_logits_from_every_teacher('MTKDRL')
        for name, dim, channels in zip(info.names, info.embedding_dims,
                                       info.feature_channels):
            if not channels:
                raise ValueError('MTKDRL needs a feature loss: its state '
                                 'holds the cosine of connected features')
            if any(c != dim for c in channels):
                raise ValueError(
                    f"teacher '{name}': feature channels {channels} differ "
                    f'from its embedding ({dim}); the cosine in the state '
                    'needs them equal')
        self.feature_loss_weight = info.feature_loss_weight
        state_dim = sum(d + info.logit_dim + 3 for d in info.embedding_dims)
        self.state_dim = state_dim
        self.agent = PolicyNetwork(state_dim, len(info.names), self.hidden)

    def fusion_weights(self):
        """(2, 3): the λ of logits and features (fixed thirds when
        ``fusion='average'``)."""
        if self.fusion == 'dynamic':
            return self.fusion_logits.softmax(dim=1)
        return torch.full((2, 3), 1 / 3, device=self.baseline.device)

    @staticmethod
    def fixed_weights(state):
        """(2, 2, B, K): [logit, feature] × [confidence-aware,
        divergence-aware] weights."""
        confidence = confidence_weights(state.teacher_ce)
        return torch.stack([
            torch.stack([confidence, state.kl.softmax(dim=1)]),
            torch.stack([confidence, state.cosine.softmax(dim=1)]),
        ])

    def fuse(self, actions, fixed):
        """Agent actions (B, K) ×2 and fixed weights → fused logit and
        feature weights, (B, K) each."""
        return [
            lam[0] * a + lam[1] * c + lam[2] * d
            for a, (c, d), lam in zip(actions, fixed, self.fusion_weights())
        ]

    def in_warmup(self):
        """Whether the runner's current epoch or iteration is in the
        warm-up."""
        hub = MessageHub.get_current_instance()
        return (hub.get_info('epoch', 0) < self.warmup_epochs
                or hub.get_info('iter', 0) < self.warmup_iters)

    def forward(self, state):
        warmup = self.in_warmup()
        if warmup and self.policy == 'reinforce':
            # No action is sampled in the warm-up: nothing to learn from.
            ones = torch.ones_like(state.kl)
            return TeacherWeights(logit=ones, feature=ones.clone())
        observation = agent_state(state)
        extras = {'fixed': self.fixed_weights(state)}
        if warmup:
            agent_actions = None
            logit, feature = torch.ones_like(state.kl), torch.ones_like(
                state.kl)
        else:
            agent_actions = actions = self.agent(observation)
            if self.policy == 'reinforce' and self.training:
                actions = [dirichlet(a, self.concentration).sample()
                           for a in actions]
                extras['sampled'] = torch.stack(actions)
            logit, feature = self.fuse(actions, extras['fixed'])
        reward = -(state.student_ce + (logit * state.kl).sum(dim=1) +
                   self.feature_loss_weight *
                   (feature * state.feature_loss).sum(dim=1))
        if self.training:
            self.experience.add(observation=observation,
                                reward=standardised_reward(reward), **extras)
        extras = None if agent_actions is None else dict(
            agent_logit=agent_actions[0], agent_feature=agent_actions[1])
        return TeacherWeights(logit, feature, extras=extras)

    def update_loss(self, entry):
        """The agent's loss on one stored entry (``observation`` (B, S),
        ``reward`` (B,), ``fixed`` (2, 2, B, K)[, ``sampled``]).

        surrogate: ``Σ_heads mean R·(−log w)`` on the fused weights w (the
        reference's ``PolicyTrans`` returns them; ``'dynamic'`` also trains
        λ through them);
        reinforce: ``−(R − b)·Σ_heads log π(sampled action | s)``.
        """
        actions = self.agent(entry['observation'])
        reward = entry['reward']
        if self.policy == 'reinforce':
            log_prob = sum(
                dirichlet(a, self.concentration).log_prob(s)
                for a, s in zip(actions, entry['sampled']))
            return -((reward - self.baseline) * log_prob).mean()
        return sum(
            surrogate_loss(w, reward)
            for w in self.fuse(actions, entry['fixed']))

    def after_update_step(self, entry):
        """Moves the REINFORCE baseline towards the entry's mean reward."""
        if self.policy == 'reinforce':
            self.baseline.mul_(self.baseline_momentum).add_(
                (1 - self.baseline_momentum) * entry['reward'].mean())
