"""RLKD's state, action, KD loss, reward and PPO against formulas written
out here, independently of ``mtkd_mm`` (numpy, hand-computed cases)."""
import math

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper

from mtkd_mm.errors import BuildError
from mtkd_mm.learning.ppo import (clipped_surrogate, gae, gaussian_log_prob,
                                  normalised, redistributed_rewards)
from mtkd_mm.losses import KLDivergence
from mtkd_mm.structures import SIGMOID, SOFTMAX, ModelRecord, Points
from mtkd_mm.temperatures import RLKDTemperature
from mtkd_mm.temperatures.rlkd import rlkd_state
from mtkd_mm.temperatures.rlkd_reward import batch_accuracy, stage_scale
from tests.test_distill.helpers import (CLS_DISTILL, build_model,
                                        with_teacher_checkpoints)


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize('margin', ['paper', 'reference'])
def test_state_for_both_margins(margin):
    rng = np.random.default_rng(0)
    student, t1, t2 = (rng.normal(size=(6, 5)) * 3 for _ in range(3))
    state = rlkd_state(torch.tensor(student), [torch.tensor(t1),
                                               torch.tensor(t2)], SOFTMAX,
                       margin).numpy()
    p_s = np.sort(softmax(student), axis=1)  # ascending
    p_t = (softmax(t1) + softmax(t2)) / 2
    second = p_s[:, -2] if margin == 'paper' else p_s[:, 1]
    expected = np.stack([p_s[:, -1], p_t.max(axis=1), p_s[:, -1] - second],
                        axis=1)
    np.testing.assert_allclose(state, expected, rtol=1e-6)


def test_state_under_a_sigmoid_distribution():
    rng = np.random.default_rng(1)
    student, teacher = rng.normal(size=(2, 4, 3))
    state = rlkd_state(torch.tensor(student), [torch.tensor(teacher)],
                       SIGMOID).numpy()
    p_s = np.sort(1 / (1 + np.exp(-student)), axis=1)
    expected = np.stack([p_s[:, -1], (1 / (1 + np.exp(-teacher))).max(1),
                         p_s[:, -1] - p_s[:, -2]], axis=1)
    np.testing.assert_allclose(state, expected, rtol=1e-6)


def test_gaussian_log_prob():
    x, mean, log_std = torch.tensor([0.3, -1.0]), torch.tensor(
        [0.1, 0.5]), torch.tensor(-0.5)
    sigma = math.exp(-0.5)
    expected = [
        -0.5 * ((xi - mi) / sigma)**2 - math.log(sigma) -
        0.5 * math.log(2 * math.pi) for xi, mi in ((0.3, 0.1), (-1.0, 0.5))
    ]
    assert gaussian_log_prob(x, mean, log_std).tolist() == pytest.approx(
        expected, rel=1e-6)


def points(num, labels=None, samples=None):
    labels = torch.zeros(num, dtype=torch.long) if labels is None else labels
    samples = torch.arange(num) if samples is None else samples
    return Points(sample_index=samples, labels=labels,
                  num_samples=int(samples.max()) + 1)


def record(logits):
    return ModelRecord(features=[], embedding=torch.zeros(1, 1),
                       logits=logits)


def at(iteration):
    MessageHub.get_current_instance().update_info('iter', iteration)
    MessageHub.get_current_instance().update_info('epoch', 0)


@pytest.mark.parametrize('log_prob_at', ['sample', 'temperature'])
def test_temperature_mapping_and_stored_log_probability(log_prob_at):
    torch.manual_seed(0)
    agent = RLKDTemperature(by_epoch=False, warmup=0, rl_every=1,
                            log_prob_at=log_prob_at)
    student, teacher = torch.randn(5, 4), torch.randn(5, 4)
    generator = torch.Generator()
    generator.set_state(agent.rng_state.clone())
    at(7)
    temperature = agent(points(5), record(student), [record(teacher)])
    state = rlkd_state(student, [teacher], SOFTMAX)
    body, parts = agent.actor.body, agent.actor.log_std_parts
    mean = torch.tanh(body(state)).squeeze(1).detach()
    sigma = math.exp(parts.sum().item() - 0.5)
    sample = mean + torch.randn(5, generator=generator) * sigma
    expected_t = 10 / (1 + torch.exp(-sample))
    assert torch.allclose(temperature, expected_t, atol=1e-6)
    entry = agent.experience.drain()[0]
    x = sample if log_prob_at == 'sample' else expected_t
    expected_logp = (-0.5 * ((x - mean) / sigma)**2 - math.log(sigma) -
                     0.5 * math.log(2 * math.pi))
    assert torch.allclose(entry['log_prob'], expected_logp, atol=1e-5)
    assert torch.allclose(entry['values'],
                          agent.critic(state).squeeze(1).detach())


def test_warmup_gives_the_fixed_temperature_and_stores_nothing():
    agent = RLKDTemperature(by_epoch=True, warmup=20, rl_every=20)
    at(0)
    assert agent(points(3), record(torch.randn(3, 4)),
                 [record(torch.randn(3, 4))]) == 4.0
    assert len(agent.experience) == 0


def test_per_sample_temperature_kl():
    """(1/B) Σ_i T_i² KL(σ(z_t,i/T_i) ‖ σ(z_s,i/T_i)), the reference's
    per-sample loop."""
    rng = np.random.default_rng(2)
    student, teacher = rng.normal(size=(2, 4, 6)) * 2
    t = np.array([0.5, 1.0, 4.0, 9.5])
    expected = []
    for i in range(4):
        p_t = softmax(teacher[i:i + 1] / t[i])[0]
        log_p_s = np.log(softmax(student[i:i + 1] / t[i])[0])
        expected.append(t[i]**2 * np.sum(p_t * (np.log(p_t) - log_p_s)))
    loss = KLDivergence()(torch.tensor(student), torch.tensor(teacher),
                          torch.tensor(t))
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-9)


def test_gae_hand_computed():
    gamma, lam = 0.9, 0.5
    rewards, values = [0.0, 0.0, 1.0], [0.2, 0.4, 0.1]
    last = 0.3
    deltas = [0 + 0.9 * 0.4 - 0.2, 0 + 0.9 * 0.1 - 0.4, 1 + 0.9 * 0.3 - 0.1]
    advantages = [
        deltas[0] + 0.45 * deltas[1] + 0.45**2 * deltas[2],
        deltas[1] + 0.45 * deltas[2], deltas[2]
    ]
    returns = [0.81 * 1 + 0.729 * 0.3, 0.9 * 1 + 0.81 * 0.3, 1 + 0.9 * 0.3]
    adv, ret = gae(torch.tensor(rewards), torch.tensor(values),
                   torch.tensor(last), gamma, lam)
    assert adv.tolist() == pytest.approx(advantages)
    assert ret.tolist() == pytest.approx(returns)
    norm = normalised(adv).numpy()
    a = np.array(advantages)
    np.testing.assert_allclose(norm, (a - a.mean()) / a.std(), rtol=1e-5)


def test_calibrated_rewards_sum_to_the_batch_reward():
    g = torch.tensor([0.5, -0.25, 1.0, 2.0])
    rewards = redistributed_rewards(g, torch.tensor(0.7))
    assert float(rewards.sum()) == pytest.approx(0.7)
    shift = (0.7 - 2.0) / 4
    assert rewards.tolist() == pytest.approx(
        [0.5 + shift, -0.75 + shift, 1.25 + shift, 1.0 + shift])


def test_clipped_surrogate_hand_computed():
    # ratios 1.5, 0.5, 1.1; advantages +1, −2, +3; ε = 0.2
    old = torch.zeros(3)
    new = torch.log(torch.tensor([1.5, 0.5, 1.1]))
    adv = torch.tensor([1.0, -2.0, 3.0])
    # min(1.5·1, 1.2·1) = 1.2; min(0.5·−2, 0.8·−2) = −1.6; min(3.3, 3.3)
    expected = -(1.2 - 1.6 + 3.3) / 3
    assert float(clipped_surrogate(new, old, adv, 0.2)) == pytest.approx(
        expected)


def test_macro_and_micro_batch_accuracy():
    logits = torch.eye(4)[[0, 0, 1, 2, 2, 3]]  # predictions
    labels = torch.tensor([0, 1, 1, 2, 0, -100])
    # classes seen: 0 (1 of 2), 1 (1 of 2), 2 (1 of 1); class 3's point is
    # ignored; micro: 3 of 5
    assert float(batch_accuracy(logits, labels, 'macro')) == pytest.approx(
        (0.5 + 0.5 + 1) / 3)
    assert float(batch_accuracy(logits, labels, 'micro')) == pytest.approx(
        3 / 5)
    # a class predicted but absent from the labels counts with recall 0
    assert float(batch_accuracy(torch.eye(3)[[0, 2]], torch.tensor(
        [0, 1]))) == pytest.approx((1 + 0 + 0) / 3)


def test_stage_scale_matches_the_reference_values():
    stages = RLKDTemperature().reward_stages
    # the reference's multipliers in its RL epochs (ITKD trainer.py:397-450)
    expected = {20: 18.35, 40: 14.48, 160: 6.25, 180: 10.0, 220: 2.5,
                240: 1.0}
    for epoch, value in expected.items():
        assert stage_scale(epoch, stages) == pytest.approx(value, abs=0.01)


def test_delayed_reward_on_the_last_transition():
    agent = RLKDTemperature(by_epoch=False, warmup=0, rl_every=1,
                            reward_stages=[dict(end=100, period=50,
                                                scale=2)],
                            accuracy='micro', max_transitions=3)
    labels = torch.tensor([0, 1, 2, 3])
    right = torch.eye(4) * 5
    wrong = torch.eye(4)[[1, 1, 2, 0]] * 5  # 2 of 4 right
    at(0)
    agent(points(4, labels), record(wrong), [record(right)])
    at(1)
    agent(points(4, labels), record(right), [record(right)])
    first, second = agent.experience.drain()
    assert float(first['reward']) == 0  # no previous accuracy
    scale = ((math.cos(2 * math.pi / 50) + 1) / 2 + 1) * 2
    assert float(second['reward']) == pytest.approx(scale * (1 - 0.5))
    assert len(second['states']) == 3  # at most max_transitions


def update(agent, entries):
    wrapper = build_optim_wrapper(agent, agent.optim_wrapper_cfg)
    return wrapper, agent.learn(wrapper, entries)


@pytest.mark.parametrize('calibration', ['gae', 'reference'])
def test_ppo_update_steps_each_network(calibration):
    torch.manual_seed(0)
    agent = RLKDTemperature(by_epoch=False, warmup=0, rl_every=1,
                            calibration=calibration)
    labels = torch.randint(0, 4, (16, ))
    for i in range(2):
        at(i)
        agent(points(16, labels), record(torch.randn(16, 4)),
              [record(torch.randn(16, 4))])
    before = {k: v.clone() for k, v in agent.state_dict().items()}
    wrapper, losses = update(agent, agent.experience.drain())
    assert len(losses) == 2
    steps = {
        name: int(wrapper.optimizer.state[p]['step'])
        for name, p in agent.named_parameters()
        if p in wrapper.optimizer.state
    }
    assert steps['actor.log_std_parts'] == 10  # 5 per stored batch
    assert steps['critic.0.weight'] == 10
    if calibration == 'gae':
        assert steps['regressor.0.weight'] == 18  # 9 per stored batch
    else:
        assert 'regressor.0.weight' not in steps
    lrs = {group['lr'] for group in wrapper.optimizer.param_groups}
    assert lrs == {1e-3, 1e-4}
    after = agent.state_dict()
    assert not torch.equal(before['actor.body.0.weight'],
                           after['actor.body.0.weight'])


def test_config_errors_name_the_key(teacher_ckpts):
    cfg = with_teacher_checkpoints(CLS_DISTILL, teacher_ckpts)
    cfg.model.temperature = dict(type='RLKDTemperature', margin='second')
    with pytest.raises(BuildError, match='model.temperature.*margin'):
        build_model(cfg)


def test_a_learnt_temperature_needs_logit_distillation(teacher_ckpts):
    cfg = with_teacher_checkpoints(CLS_DISTILL, teacher_ckpts)
    cfg.model.temperature = dict(type='RLKDTemperature')
    cfg.model.logit_loss = None
    with pytest.raises(BuildError, match='model.temperature: RLKDTemperature'
                       ' learns the T of the logit loss'):
        build_model(cfg)
