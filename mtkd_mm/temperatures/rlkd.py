"""RLKD / ITKD: a PPO agent that sets each point's distillation temperature
(Zhang et al., arXiv 2407.00115; docs/methods.md#rlkd--itkd)."""
from contextlib import contextmanager

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_reduce
from mmengine.logging import MessageHub

from mtkd_mm.learning import Learner, reduced_gradients
from mtkd_mm.learning.ppo import (clipped_surrogate, gae, gaussian_log_prob,
                                  normalised, redistributed_rewards)
from mtkd_mm.registry import TEMPERATURES

from .base import DistillationTemperature
from .rlkd_reward import batch_accuracy, stage_scale

CIFAR_STAGES = (dict(end=150, period=75, scale=10),
                dict(end=210, period=30, scale=5),
                dict(end=240, period=30, scale=2))


def mlp(in_features, hidden=256):
    """in → hidden → hidden → 1 with ReLUs (the reference's actor and
    critic bodies)."""
    return nn.Sequential(
        nn.Linear(in_features, hidden), nn.ReLU(),
        nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))


class TemperatureActor(nn.Module):
    """μ(s) = tanh(MLP(s)) (N,) and a state-independent log σ = Σ of a
    (10, 1) parameter − 0.5 (the reference's ``Actor``)."""

    def __init__(self, state_dim=3):
        super().__init__()
        self.body = mlp(state_dim)
        self.log_std_parts = nn.Parameter(torch.zeros(10, 1))

    def forward(self, states):
        """(N, 3) → μ (N,), log σ ()."""
        mean = torch.tanh(self.body(states)).squeeze(1)
        return mean, self.log_std_parts.sum() - 0.5


def rlkd_state(student_logits, teacher_logits, distribution,
               margin='paper'):
    """(P, 3) per point: [top-1 of p_s, top-1 of p_t, margin of p_s] at
    T = 1 under the points' distribution.

    Args:
        student_logits (Tensor): (P, C).
        teacher_logits (list[Tensor]): (P, C) per teacher with logits; p_t
            is their mean probability (ours for more than one teacher).
        margin (str): ``'paper'``: top-1 − top-2 of p_s; ``'reference'``:
            top-1 − the second *smallest* (``kthvalue(p_s, 2)``, the
            released code).
    """
    p_s = distribution.probabilities(student_logits.detach().float())
    p_t = torch.stack([distribution.probabilities(t.float())
                       for t in teacher_logits]).mean(dim=0)
    top1 = p_s.max(dim=1).values
    if margin == 'paper':
        second = p_s.topk(2, dim=1).values[:, 1]
    else:
        second = p_s.kthvalue(2, dim=1).values
    return torch.stack([top1, p_t.max(dim=1).values, top1 - second], dim=1)


@TEMPERATURES.register_module()
class RLKDTemperature(Learner, DistillationTemperature):
    """Each point's T from a PPO agent: ``T = t_max · sigmoid(μ(s) + ε·σ)``
    from the point's state (:func:`rlkd_state`); after the warm-up the
    collecting units store each batch's path with its delayed reward, and
    ``LearnerUpdateHook`` runs :meth:`learn` (one PPO update per stored
    batch). Paper, released code, differences and what is ours:
    docs/methods.md#rlkd--itkd.

    Args:
        margin (str), log_prob_at (str), calibration (str), accuracy (str):
            the paper's or the released code's choice of each (see docs).
        per (str): ``'point'`` or ``'image'`` (one T per image, ours).
        t_max (float): the largest T.
        by_epoch (bool): whether ``warmup``, ``rl_every`` and
            ``reward_stages`` count epochs (the reference) or iterations.
        warmup (int), warmup_temperature (float): units before the agent
            acts, and T until then.
        rl_every (int): the agent learns in the units that are multiples.
        reward_stages (list[dict]): ``end``, ``period``, ``scale`` each.
        max_transitions (int): points stored per batch.
        gamma, lam, clip, max_grad_norm (float), actor_epochs,
            critic_epochs, calibration_steps (int): PPO's settings.
        optim_wrapper (dict), update_interval (int), buffer_size (int):
            the agent's optimiser and update schedule (``Learner``).
    """

    def __init__(self,
                 margin='paper',
                 log_prob_at='sample',
                 calibration='gae',
                 per='point',
                 t_max=10.0,
                 by_epoch=True,
                 warmup=20,
                 warmup_temperature=4.0,
                 rl_every=20,
                 reward_stages=CIFAR_STAGES,
                 accuracy='macro',
                 max_transitions=64,
                 gamma=0.99,
                 lam=0.95,
                 clip=0.2,
                 actor_epochs=5,
                 critic_epochs=5,
                 max_grad_norm=2.0,
                 calibration_steps=9,
                 optim_wrapper=dict(
                     type='OptimWrapper',
                     optimizer=dict(type='Adam', lr=1e-3),
                     paramwise_cfg=dict(
                         custom_keys={'actor': dict(lr_mult=0.1)})),
                 update_interval=1,
                 buffer_size=2):
        super().__init__()
        choices = dict(margin=('paper', 'reference'),
                       log_prob_at=('sample', 'temperature'),
                       calibration=('gae', 'reference'),
                       per=('point', 'image'), accuracy=('macro', 'micro'))
        given = dict(margin=margin, log_prob_at=log_prob_at,
                     calibration=calibration, per=per, accuracy=accuracy)
        for key, allowed in choices.items():
            if given[key] not in allowed:
                raise ValueError(f'RLKDTemperature.{key} must be one of '
                                 f'{allowed}, got {given[key]!r}')
        counts = dict(warmup=(warmup, 0), rl_every=(rl_every, 1),
                      max_transitions=(max_transitions, 1))
        for key, (value, least) in counts.items():
            if not isinstance(value, int) or value < least:
                raise ValueError(f'RLKDTemperature.{key} must be an integer '
                                 f'of at least {least}, got {value!r}')
        self.margin, self.log_prob_at = margin, log_prob_at
        self.calibration, self.per, self.accuracy = calibration, per, accuracy
        self.t_max = float(t_max)
        self.by_epoch = by_epoch
        self.warmup = int(warmup)
        self.warmup_temperature = float(warmup_temperature)
        self.rl_every = int(rl_every)
        self.reward_stages = [dict(stage) for stage in reward_stages]
        self.max_transitions = int(max_transitions)
        self.gamma, self.lam, self.clip = gamma, lam, clip
        self.actor_epochs, self.critic_epochs = actor_epochs, critic_epochs
        self.max_grad_norm = max_grad_norm
        self.calibration_steps = calibration_steps
        self.actor = TemperatureActor()
        self.critic = mlp(3)
        self.regressor = nn.Sequential(nn.Linear(4, 16), nn.Linear(16, 1))
        self.register_buffer('last_accuracy', torch.tensor(float('nan')))
        # the state of the agent's own random numbers, checkpointed and
        # equal on every rank (the runner seeds torch alike on each)
        generator = torch.Generator().manual_seed(torch.initial_seed())
        self.register_buffer('rng_state', generator.get_state())
        self._acted_at = None
        self.init_learner(optim_wrapper, update_interval, buffer_size)

    # acting -------------------------------------------------------------

    def unit(self):
        """The runner's current epoch or iteration, 1-based."""
        hub = MessageHub.get_current_instance()
        return hub.get_info('epoch' if self.by_epoch else 'iter', 0) + 1

    def forward(self, points, student, teachers):
        """float in the warm-up, else (P,) one T per point."""
        unit = self.unit()
        iteration = MessageHub.get_current_instance().get_info('iter', 0)
        # once per student step, not again in a look-ahead of the same step
        first_call = self.training and self._acted_at != iteration
        accuracy = None
        if first_call:
            self._acted_at = iteration
            accuracy = batch_accuracy(student.logits.detach(), points.labels,
                                      self.accuracy, points.ignore_index)
            all_reduce(accuracy, op='mean')
        if unit < self.warmup:
            self._remember(accuracy)
            return self.warmup_temperature
        logits = [t.logits for t in teachers if t.logits is not None]
        states = rlkd_state(student.logits, logits, points.distribution,
                            self.margin)
        if self.per == 'image':
            states = points.mean_per_sample(states)
        with torch.no_grad():
            mean, log_std = self.actor(states)
            with self.random() as generator:
                noise = torch.randn(mean.shape, generator=generator)
            sample = mean + noise.to(mean) * log_std.exp()
            temperature = self.t_max * sample.sigmoid()
        if first_call and unit % self.rl_every == 0:
            reward = (0.0 if self.last_accuracy.isnan() else
                      stage_scale(unit, self.reward_stages) *
                      float(accuracy - self.last_accuracy))
            self._store(states, sample, temperature, mean, log_std, reward)
        self._remember(accuracy)
        if self.per == 'image':
            temperature = temperature[points.sample_index]
        return temperature

    @contextmanager
    def random(self):
        """A CPU generator at :attr:`rng_state`, saved back after use."""
        generator = torch.Generator()
        generator.set_state(self.rng_state.cpu())
        yield generator
        self.rng_state.copy_(generator.get_state())

    def _remember(self, accuracy):
        if accuracy is not None:
            self.last_accuracy.copy_(accuracy)

    def _store(self, states, sample, temperature, mean, log_std, reward):
        """The batch's path: at most ``max_transitions`` random points, the
        delayed reward on the last."""
        if len(states) > self.max_transitions:
            with self.random() as generator:
                keep = torch.randperm(len(states), generator=generator)
            keep = keep[:self.max_transitions].to(states.device)
            states, sample, temperature, mean = (
                states[keep], sample[keep], temperature[keep], mean[keep])
        action = sample if self.log_prob_at == 'sample' else temperature
        with torch.no_grad():
            values = self.critic(states).squeeze(1)
        self.experience.add(
            states=states, action=action, temperature=temperature,
            log_prob=gaussian_log_prob(action, mean, log_std), values=values,
            reward=torch.tensor(float(reward)))

    # learning -----------------------------------------------------------

    def learn(self, optim_wrapper, entries, reduce_gradients=None):
        """One PPO update per stored batch, oldest first; returns the
        actor's last loss of each."""
        device = self.last_accuracy.device
        losses = []
        for entry in entries:
            entry = {k: v.to(device) for k, v in entry.items()}
            advantages, returns = self.advantages(optim_wrapper, entry,
                                                  reduce_gradients)
            for _ in range(self.critic_epochs):
                value = self.critic(entry['states']).squeeze(1)
                self._step(optim_wrapper, F.mse_loss(value, returns),
                           self.critic, reduce_gradients)
            for _ in range(self.actor_epochs):
                mean, log_std = self.actor(entry['states'])
                loss = clipped_surrogate(
                    gaussian_log_prob(entry['action'], mean, log_std),
                    entry['log_prob'], advantages, self.clip)
                self._step(optim_wrapper, loss, self.actor, reduce_gradients)
            losses.append(float(loss.detach()))
        return losses

    def advantages(self, optim_wrapper, entry, reduce_gradients=None):
        """Normalised advantages and the critic's targets of one path,
        from the calibrated instance rewards (``calibration='gae'``) or
        the delayed reward alone."""
        rewards = torch.zeros_like(entry['values'])
        rewards[-1] = entry['reward']
        last_value = entry['values'][-1]
        advantages, returns = gae(rewards, entry['values'], last_value,
                                  self.gamma, self.lam)
        if self.calibration == 'gae':
            features = torch.cat(
                [entry['states'], entry['temperature'][:, None]], dim=1)
            for _ in range(self.calibration_steps):
                error = (self.regressor(features).squeeze(1) - returns).mean()
                self._step(optim_wrapper, 1.5 * error**2, self.regressor,
                           reduce_gradients, clip=False)
            with torch.no_grad():
                predictions = self.regressor(features).squeeze(1)
            rewards = redistributed_rewards(predictions, entry['reward'])
            advantages, returns = gae(rewards, entry['values'], last_value,
                                      self.gamma, self.lam)
        return normalised(advantages), returns

    def _step(self, optim_wrapper, loss, network, reduce_gradients,
              clip=True):
        """One optimiser step of ``network`` alone (the others get no
        gradient, so Adam leaves them and their moments as they are)."""
        optim_wrapper.zero_grad()
        optim_wrapper.backward(loss)
        params = list(network.parameters())
        if reduce_gradients is not None:
            reduced_gradients(params, reduce_gradients)
        if clip:
            nn.utils.clip_grad_norm_(params, self.max_grad_norm)
        optim_wrapper.step()
        optim_wrapper.zero_grad()

    def extra_repr(self):
        return (f'margin={self.margin!r}, log_prob_at={self.log_prob_at!r}, '
                f'calibration={self.calibration!r}, per={self.per!r}, '
                f'warmup={self.warmup}, rl_every={self.rl_every}, '
                f'by_epoch={self.by_epoch}')
