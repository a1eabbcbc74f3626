"""LookAheadTrust (ours, not a published method): per-sample teacher trust
learnt from how much each teacher's distillation step would lower the
student's own loss."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mtkd_mm.learning import Learner, replay
from mtkd_mm.registry import WEIGHTINGS

from .base import (TeacherWeighting, TeacherWeights, dirichlet,
                   feature_weights_like_logits)
from .mtkd_rl import standardised_reward, surrogate_loss

# per teacher: its CE against the labels, the student's KL to it, its
# entropy, and the student's CE (shared by the teachers); then the first
# three relative to their mean over the teachers
STATE_FEATURES = ('teacher_ce', 'kl', 'entropy', 'student_ce')
NUM_FEATURES = 2 * len(STATE_FEATURES) - 1


class TrustScorer(nn.Module):
    """One small network scores every teacher from that teacher's own state,
    so it serves any number of teachers: (B, K, F) → (B, K) scores, whose
    softmax over the teachers gives the weights. The last layer starts at
    zero: the first weights are uniform (AVER)."""

    def __init__(self, num_features, hidden=32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(num_features, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, 1))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, observation):
        return self.net(observation).squeeze(-1)


class CompetenceHeads(nn.Module):
    """A linear head per teacher scores the image from that teacher's own
    embedding: where the teacher is competent, as it sees the image.
    (B, Σ(D_k + 1)) :func:`embedding_features` → (B, K) scores; zero at the
    start."""

    def __init__(self, embedding_dims):
        super().__init__()
        self.feature_dims = [d + 1 for d in embedding_dims]
        self.heads = nn.ModuleList(nn.Linear(d, 1) for d in self.feature_dims)
        for head in self.heads:
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

    def forward(self, embeddings):
        return torch.cat([
            head(e) for head, e in zip(
                self.heads, embeddings.split(self.feature_dims, dim=1))
        ], dim=1)


def embedding_features(embeddings):
    """K teacher embeddings (B, D_k) → (B, Σ(D_k + 1)), detached: each
    embedding standardised over its own D_k (its direction; per sample, so
    any batch size works), then the log of its root mean square (its scale:
    how strongly the teacher responds to the image)."""
    features = []
    for e in embeddings:
        e = e.detach().float()
        scale = e.square().mean(dim=1, keepdim=True).sqrt()
        features += [F.layer_norm(e, e.shape[-1:]),
                     scale.clamp(min=1e-6).log()]
    return torch.cat(features, dim=1)


def trust_observation(state, normalise=True):
    """(B, K, F) per-teacher state, detached: ``STATE_FEATURES``, then each
    teacher's CE, KL and entropy minus their mean over the teachers.

    ``normalise``: ``log1p`` of the (non-negative) quantities first, and
    every feature standardised over the batch and the teachers at the end
    (the raw quantities span orders of magnitude: a confidently wrong
    teacher's CE is ~10, a right one's ~0.01)."""
    student_ce = state.student_ce[:, None].expand_as(state.kl)
    features = torch.stack(
        [state.teacher_ce, state.kl, state.entropy.to(state.kl.dtype),
         student_ce], dim=2).detach()
    if normalise:
        features = features.clamp(min=0).log1p()
    own = features[..., :-1]
    features = torch.cat(
        [features, own - own.mean(dim=1, keepdim=True)], dim=2)
    if not normalise:
        return features
    mean = features.mean(dim=(0, 1), keepdim=True)
    std = features.std(dim=(0, 1), keepdim=True, unbiased=False)
    return (features - mean) / std.clamp(min=1e-6)


def standardised_credit(credit):
    """Each sample's credit relative to its teachers' mean, in units of the
    batch's spread: (B, K) → (B, K)."""
    relative = credit - credit.mean(dim=1, keepdim=True)
    return relative / relative.std(unbiased=False).clamp(min=1e-12)


def neighbourhood_credit(credit, features, share):
    """Each sample's credit (N, K) averaged over its nearest ``share`` of
    the N samples (at least itself) by the Euclidean distance of their
    teacher-embedding features (N, F) (:func:`embedding_features`): images
    alike for the teachers share one target."""
    count = max(1, round(share * len(credit)))
    nearest = torch.cdist(features, features).topk(
        count, dim=1, largest=False).indices
    return credit[nearest].mean(dim=1)


@WEIGHTINGS.register_module()
class LookAheadTrust(Learner, TeacherWeighting):
    """Per-sample teacher weights from a learnt policy π (ours, not a
    published method; docs/methods.md#lookaheadtrust-ours), trained on the
    look-ahead credit (``TeacherState.lookahead_credit``, (B, K)). In
    training it reports ``extras`` ``best_credit`` and
    ``best_credit_right`` (B, K).

    Args:
        reward (str): ``'lookahead'`` or ``'reference'`` (MTKD-RL's).
        policy (str): ``'expected'`` (expected credit), ``'reinforce'`` or
            ``'surrogate'`` (MTKD-RL's released update).
        normalise_state (bool): ``log1p`` and batch standardisation.
        policy_input (str): ``'state'``, ``'embeddings'`` or ``'both'``.
        credit_neighbourhood (float): share of the update's samples, nearest
            in the teachers' embeddings, whose credit each sample learns
            from (0: its own).
        trusted (tuple[str]): the terms π weights, ``'logit'`` and/or
            ``'feature'``; the other gets 1/K.
        uniform_share (float): ε in [0, 1): the trusted terms get
            (1 − ε) π + ε / K, softer trust (0: π itself).
        entropy_weight (float), concentration (float), hidden (int): of
            the expected policy's entropy term, the Dirichlet, the scorer.
        optim_wrapper (dict), update_interval (int), buffer_size (int):
            the policy's optimiser and update schedule (``Learner``).
    """

    def __init__(self,
                 reward='lookahead',
                 policy='expected',
                 normalise_state=True,
                 policy_input='state',
                 credit_neighbourhood=0.25,
                 trusted=('logit', 'feature'),
                 uniform_share=0.0,
                 entropy_weight=0.1,
                 concentration=50.0,
                 hidden=32,
                 optim_wrapper=dict(
                     type='OptimWrapper',
                     optimizer=dict(type='Adam', lr=1e-2)),
                 update_interval=10,
                 buffer_size=1000):
        super().__init__()
        if reward not in ('lookahead', 'reference'):
            raise ValueError("LookAheadTrust.reward must be 'lookahead' or "
                             f"'reference', got {reward!r}")
        if policy not in ('expected', 'reinforce', 'surrogate'):
            raise ValueError("LookAheadTrust.policy must be 'expected', "
                             f"'reinforce' or 'surrogate', got {policy!r}")
        if policy_input not in ('state', 'embeddings', 'both'):
            raise ValueError("LookAheadTrust.policy_input must be 'state', "
                             f"'embeddings' or 'both', got {policy_input!r}")
        if not 0 <= credit_neighbourhood <= 1:
            raise ValueError('LookAheadTrust.credit_neighbourhood must be a '
                             f'share in [0, 1], got {credit_neighbourhood!r}')
        if not trusted or set(trusted) - {'logit', 'feature'}:
            raise ValueError("LookAheadTrust.trusted must name 'logit' "
                             f"and/or 'feature', got {trusted!r}")
        if not 0 <= uniform_share < 1:
            raise ValueError('LookAheadTrust.uniform_share must be in '
                             f'[0, 1), got {uniform_share!r}')
        if credit_neighbourhood and policy != 'expected':
            raise ValueError(
                "LookAheadTrust.credit_neighbourhood needs policy='expected' "
                f'(the credit per teacher): set credit_neighbourhood=0 with '
                f'policy={policy!r}')
        if policy == 'expected' and reward != 'lookahead':
            raise ValueError(
                "LookAheadTrust.policy='expected' needs a reward per "
                "teacher: reward='lookahead' (the reference reward is one "
                "per sample: use policy='reinforce' or 'surrogate')")
        self.reward = reward
        self.policy = policy
        self.normalise_state = normalise_state
        self.policy_input = policy_input
        self.credit_neighbourhood = credit_neighbourhood
        self.trusted = tuple(trusted)
        self.uniform_share = uniform_share
        self.entropy_weight = entropy_weight
        self.concentration = concentration
        reads = (('lookahead_credit', 'teacher_accuracy')
                 if reward == 'lookahead' else
                 ('student_ce', 'kl', 'feature_loss'))
        if policy_input != 'embeddings':
            reads += STATE_FEATURES
            self.scorer = TrustScorer(NUM_FEATURES, hidden)
        if policy_input != 'state' or credit_neighbourhood:
            reads += ('embeddings', )
        self.reads = tuple(dict.fromkeys(reads))
        self.init_learner(optim_wrapper, update_interval, buffer_size)

    def setup(self, info):
        info.require_logits_from_every_teacher('LookAheadTrust')
        self.feature_loss_weight = info.feature_loss_weight
        if self.policy_input != 'state':
            self.competence = CompetenceHeads(info.embedding_dims)

    def _trust(self, observation=None, embeddings=None):
        """(B, K) policy π from what it observes: the state (B, K, F)
        and/or the embedding features (B, Σ(D_k + 1)), as ``policy_input``
        says."""
        scores = 0
        if self.policy_input != 'embeddings':
            scores = scores + self.scorer(observation)
        if self.policy_input != 'state':
            scores = scores + self.competence(embeddings)
        return scores.softmax(dim=1)

    def forward(self, state):
        inputs = {}
        if self.policy_input != 'embeddings':
            inputs['observation'] = trust_observation(state,
                                                      self.normalise_state)
        if 'embeddings' in self.reads:
            inputs['embeddings'] = embedding_features(state.embeddings)
        trust = self._trust(**inputs)
        weights = trust
        if self.policy == 'reinforce' and self.training:
            weights = dirichlet(trust, self.concentration).sample()
        extras = None
        if self.training:
            sampled = (dict(weights=weights) if self.policy == 'reinforce'
                       else {})
            self.experience.add(**inputs, **sampled,
                                **self._reward(state, weights))
            if self.reward == 'lookahead':
                best = F.one_hot(state.lookahead_credit.argmax(dim=1),
                                 state.num_teachers).to(weights.dtype)
                extras = dict(best_credit=best,
                              best_credit_right=best * state.teacher_accuracy)
        uniform = state.uniform(state.num_teachers)
        if self.uniform_share:
            weights = ((1 - self.uniform_share) * weights +
                       self.uniform_share * uniform)
        return TeacherWeights(
            weights if 'logit' in self.trusted else uniform,
            feature_weights_like_logits(state, weights)
            if 'feature' in self.trusted else uniform,
            extras=extras)

    def _reward(self, state, weights):
        """What the update needs: the credit (B, K) (expected policy) or one
        reward per sample (B,)."""
        if self.reward == 'lookahead':
            credit = state.lookahead_credit
            if self.policy == 'expected':
                return dict(credit=credit)
            return dict(reward=(weights * credit).sum(dim=1))
        return dict(reward=-(
            state.student_ce + (weights * state.kl).sum(dim=1) +
            self.feature_loss_weight *
            (weights * state.feature_loss).sum(dim=1)))

    def learn(self, optim_wrapper, entries, reduce_gradients=None):
        """:func:`~mtkd_mm.learning.replay`; with ``credit_neighbourhood``,
        each entry's credit first averaged over its neighbourhood among all
        the entries' samples."""
        if self.credit_neighbourhood and entries:
            credit = neighbourhood_credit(
                torch.cat([e['credit'] for e in entries]),
                torch.cat([e['embeddings'] for e in entries]),
                self.credit_neighbourhood)
            entries = [dict(e, credit=c) for e, c in zip(
                entries, credit.split([len(e['credit']) for e in entries]))]
        return replay(self, optim_wrapper, entries, reduce_gradients)

    def update_loss(self, entry):
        """The policy's loss on one stored entry (what it observed:
        ``observation`` (B, K, F) and/or ``embeddings`` (B, Σ(D_k + 1)); the
        ``credit`` (B, K) or ``reward`` (B,); the sampled ``weights`` (B, K)
        with ``policy='reinforce'``)."""
        trust = self._trust(entry.get('observation'),
                            entry.get('embeddings'))
        if self.policy == 'expected':
            entropy = -(trust * trust.clamp(min=1e-12).log()).sum(dim=1)
            gain = (trust * standardised_credit(entry['credit'])).sum(dim=1)
            return -(gain + self.entropy_weight * entropy).mean()
        reward = entry['reward']
        if self.policy == 'reinforce':
            advantage = reward - reward.mean()
            advantage = advantage / advantage.std(unbiased=False).clamp(
                min=1e-12)
            # a sampled weight may underflow to 0, where log π is −inf
            sample = entry['weights'].clamp(min=1e-6)
            log_prob = dirichlet(trust, self.concentration).log_prob(
                sample / sample.sum(dim=1, keepdim=True))
            return -(advantage * log_prob).mean()
        return surrogate_loss(trust, standardised_reward(reward))
