"""MTKD-RL maths against independent formulas (docs/methods.md#mtkd-rl)."""
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper

from mtkd_mm.learning import replay
from mtkd_mm.weightings import MTKDRL, PoolInfo
from mtkd_mm.weightings.mtkd_rl import (agent_state, standardised_reward,
                                        surrogate_loss)
from tests.test_weightings import (DET_INDEX, NUM_CLASSES,
                                   classification_state, detection_state)

EMBED_DIM = 6  # make_state's teacher embeddings


@pytest.fixture(autouse=True)
def after_warmup():
    """The runner's epoch and iteration, past any warm-up; restored after."""
    hub = MessageHub.get_current_instance()
    old = {key: hub.get_info(key, 0) for key in ('epoch', 'iter')}
    for key in old:
        hub.update_info(key, 10**6)
    yield hub
    for key, value in old.items():
        hub.update_info(key, value)


def with_cosine(state, seed=0):
    """A classification state (the state's logits are the teachers' own)
    with random cosines."""
    state.summary_uses_probabilities = False
    gen = torch.Generator().manual_seed(seed)
    cosine = torch.rand(state.num_samples, state.num_teachers,
                        generator=gen) * 2 - 1
    state.provide('cosine', cosine)
    return state


def build(num_teachers=3, **kwargs):
    weighting = MTKDRL(**kwargs)
    weighting.setup(PoolInfo(
        names=[f't{k}' for k in range(num_teachers)],
        logit_teachers=list(range(num_teachers)),
        embedding_dims=[EMBED_DIM] * num_teachers,
        feature_channels=[[EMBED_DIM]] * num_teachers,
        logit_dim=NUM_CLASSES,
        feature_loss_weight=5.0))
    return weighting


def update(weighting, entries, reduce_gradients=None):
    """Replay ``entries`` with the optimiser of the weighting's config (as
    LearnerUpdateHook does); the number of steps."""
    optim = build_optim_wrapper(weighting, weighting.optim_wrapper_cfg)
    return len(replay(weighting, optim, entries, reduce_gradients))


def test_state_layout_and_dimension():
    state = with_cosine(classification_state(num_teachers=3))
    weighting = build(3)
    assert weighting.state_dim == 3 * (EMBED_DIM + NUM_CLASSES + 3)
    obs = agent_state(state)
    assert obs.shape == (5, weighting.state_dim)
    width = EMBED_DIM + NUM_CLASSES + 3
    for k in range(3):
        block = obs[:, k * width:(k + 1) * width]
        torch.testing.assert_close(block[:, 0], state.cosine[:, k])
        torch.testing.assert_close(block[:, 1], state.kl[:, k])
        torch.testing.assert_close(block[:, 2], state.teacher_ce[:, k])
        torch.testing.assert_close(block[:, 3:3 + EMBED_DIM],
                                   state.embeddings[k])
        # classification: the teacher's logits themselves
        torch.testing.assert_close(block[:, 3 + EMBED_DIM:],
                                   state.teachers[k].logits)


def test_state_layout_for_detection_and_segmentation_points():
    """Several points per sample (RoIs, pixels): the state's 'logits' are
    each teacher's class probabilities averaged over the sample's points."""
    state = detection_state()
    state.provide('cosine', torch.zeros(3, 3))
    obs = agent_state(state)
    width = EMBED_DIM + NUM_CLASSES + 3
    assert obs.shape == (3, 3 * width)
    for k in range(3):
        probs = state.teachers[k].logits.softmax(dim=1)
        expected = torch.stack([probs[DET_INDEX == i].mean(dim=0)
                                for i in range(3)])
        torch.testing.assert_close(
            obs[:, k * width + 3 + EMBED_DIM:(k + 1) * width], expected)


def test_setup_rejects_a_pool_it_cannot_describe():
    with pytest.raises(ValueError, match='differ from its embedding'):
        MTKDRL().setup(PoolInfo(['a'], [0], [8], [[4]], 3, 1.0))
    with pytest.raises(ValueError, match='needs a feature loss'):
        MTKDRL().setup(PoolInfo(['a'], [0], [8], [[]], 3, 1.0))
    with pytest.raises(ValueError, match='logits from every teacher'):
        MTKDRL().setup(PoolInfo(['a', 'b'], [0], [8, 8], [[8], [8]], 3, 1.))


def test_average_fusion_formula():
    state = with_cosine(classification_state(num_teachers=3))
    weighting = build(3).eval()
    weights = weighting(state)
    a_logit, a_feat = weighting.agent(agent_state(state))
    ce = state.teacher_ce
    c = (1 - ce.softmax(dim=1)) / 2
    expected_logit = (a_logit + c + state.kl.softmax(dim=1)) / 3
    expected_feat = (a_feat + c + state.cosine.softmax(dim=1)) / 3
    torch.testing.assert_close(weights.logit, expected_logit)
    torch.testing.assert_close(weights.feature, expected_feat)
    for w in (weights.logit, weights.feature):
        torch.testing.assert_close(w.sum(dim=1), torch.ones(5))
    torch.testing.assert_close(weights.extras['agent_logit'], a_logit)
    torch.testing.assert_close(weights.extras['agent_feature'], a_feat)


def test_dynamic_fusion_formula():
    state = with_cosine(classification_state(num_teachers=2))
    weighting = build(2, fusion='dynamic').eval()
    with torch.no_grad():
        weighting.fusion_logits.copy_(torch.tensor([[0., 1., 2.],
                                                    [2., 0., 1.]]))
    weights = weighting(state)
    a_logit, a_feat = weighting.agent(agent_state(state))
    c = 1 - state.teacher_ce.softmax(dim=1)
    lam = torch.tensor([[0., 1., 2.], [2., 0., 1.]]).softmax(dim=1)
    torch.testing.assert_close(
        weights.logit, lam[0, 0] * a_logit + lam[0, 1] * c +
        lam[0, 2] * state.kl.softmax(dim=1))
    torch.testing.assert_close(
        weights.feature, lam[1, 0] * a_feat + lam[1, 1] * c +
        lam[1, 2] * state.cosine.softmax(dim=1))


@pytest.mark.parametrize('info,value', [('iter', 4), ('epoch', 0)])
def test_warmup_weights_are_one_and_experience_is_stored(
        after_warmup, info, value):
    """The reference stores (state, reward) in its warm-up epoch too, the
    reward computed with every weight 1, and trains the agent on it."""
    after_warmup.update_info(info, value)
    state = with_cosine(classification_state(num_teachers=3))
    weighting = build(3, **{f'warmup_{info}s': value + 1}).train()
    weights = weighting(state)
    assert torch.equal(weights.logit, torch.ones(5, 3))
    assert torch.equal(weights.feature, torch.ones(5, 3))
    assert weights.extras is None
    entry = weighting.experience.entries[-1]
    reward = entry['reward']
    torch.testing.assert_close(entry['observation'], agent_state(state))
    raw = -(reference_ce(state.student.logits, state.points.labels) +
            state.kl.sum(dim=1) + 5.0 * state.feature_loss.sum(dim=1))
    z = (raw - raw.mean()) / raw.std()
    torch.testing.assert_close(reward, z.clamp(0, 1))
    after_warmup.update_info(info, value + 1)
    assert weighting(state).extras is not None


def test_reward_standardised_and_clamped():
    reward = torch.tensor([-3.0, -1.0, 0.0, 2.0, 10.0])
    z = (reward - reward.mean()) / reward.std()
    expected = z.clamp(0, 1)
    torch.testing.assert_close(standardised_reward(reward), expected)
    assert torch.equal(standardised_reward(torch.full((4, ), 2.0)),
                       torch.zeros(4))


def test_stored_reward_is_the_formula():
    state = with_cosine(classification_state(num_teachers=3))
    weighting = build(3).train()
    weights = weighting(state)
    raw = -(state.student_ce + (weights.logit * state.kl).sum(1) +
            5.0 * (weights.feature * state.feature_loss).sum(1))
    stored = weighting.experience.entries[-1]
    torch.testing.assert_close(stored['observation'], agent_state(state))
    torch.testing.assert_close(stored['reward'], standardised_reward(raw))


def test_surrogate_loss_formula():
    actions = torch.tensor([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    reward = torch.tensor([1.0, 0.0, 0.5])
    expected = sum(reward[i] * -torch.log(actions[i, k])
                   for i in range(3) for k in range(2)) / 6
    torch.testing.assert_close(surrogate_loss(actions, reward), expected)
    bce = torch.nn.functional.binary_cross_entropy(
        actions, torch.ones_like(actions), weight=reward[:, None]
        .expand_as(actions))
    torch.testing.assert_close(surrogate_loss(actions, reward), bce)


def reference_ce(logits, labels):
    return torch.nn.functional.cross_entropy(logits.detach(), labels,
                                             reduction='none')


def reference_agent_loss(params, observation, reward, confidence, kl,
                         cosine):
    """winycg/MTKD-RL: ``PolicyTrans`` (fusion (a + c + d) / 3 with
    c = (1 − softmax(CE)) / (K − 1), d = softmax(KL) or softmax(cos)) and
    ``train_agent``'s two BCE terms against 1 weighted by the reward."""
    hidden = torch.relu(observation @ params['body.0.weight'].T)
    loss = 0
    for head, divergence in (('logit_head', kl), ('feature_head', cosine)):
        action = torch.softmax(
            hidden @ params[f'{head}.weight'].T + params[f'{head}.bias'],
            dim=1)
        fused = (action + confidence + divergence.softmax(dim=1)) / 3
        loss = loss + torch.nn.functional.binary_cross_entropy(
            fused, torch.ones_like(fused),
            weight=reward[:, None].expand_as(fused))
    return loss


def reference_sgd_steps(params, batches, lr=0.1):
    """One SGD step per entry of ``batches``; an entry is a list of
    per-rank loss arguments whose gradients are averaged (DDP)."""
    params = {k: v.detach().clone() for k, v in params.items()}
    for per_rank in batches:
        grads = []
        for args in per_rank:
            live = {k: v.clone().requires_grad_(True)
                    for k, v in params.items()}
            loss = reference_agent_loss(live, *args)
            grads.append(torch.autograd.grad(loss, list(live.values())))
        for (name, value), *rank_grads in zip(params.items(), *grads):
            value -= lr * torch.stack(rank_grads).mean(dim=0)
    return params


def loss_arguments(state, observation, reward):
    confidence = (1 - state.teacher_ce.softmax(dim=1)) / (
        state.num_teachers - 1)
    return (observation, reward, confidence, state.kl, state.cosine)


def test_surrogate_update_trains_the_fused_weights():
    """fusion='average': the BCE surrogate is applied to (a + c + d) / 3,
    as the reference's ``PolicyTrans`` returns the fused weights."""
    state = with_cosine(classification_state(num_teachers=3))
    weighting = build(3).train()
    before = dict(weighting.agent.state_dict())
    weighting(state)
    entry = weighting.experience.entries[-1]
    assert entry['reward'].sum() > 0
    expected = reference_sgd_steps(before, [[
        loss_arguments(state, entry['observation'], entry['reward'])]])
    assert update(weighting, weighting.experience.drain()) == 1
    for name, value in weighting.agent.state_dict().items():
        torch.testing.assert_close(value, expected[name], rtol=1e-6,
                                   atol=1e-7)


def test_update_changes_agent_and_zero_reward_is_a_no_op():
    state = with_cosine(classification_state(num_teachers=3))
    weighting = build(3).train()
    weighting(state)
    before = {k: v.clone() for k, v in weighting.agent.state_dict().items()}
    entry = weighting.experience.entries[-1]
    assert update(weighting,
                  [dict(entry, reward=torch.zeros_like(entry['reward']))]) == 1
    for k, v in weighting.agent.state_dict().items():
        assert torch.equal(v, before[k]), k
    # the stored batch, nonzero rewards
    assert update(weighting, weighting.experience.drain()) == 1
    assert len(weighting.experience) == 0
    changed = [k for k, v in weighting.agent.state_dict().items()
               if not torch.equal(v, before[k])]
    assert changed


def test_reinforce_log_probability_and_baseline():
    state = with_cosine(classification_state(num_teachers=3))
    weighting = build(3, policy='reinforce', concentration=10.0).train()
    weighting(state)
    entry = weighting.experience.entries[-1]
    obs, reward, sampled = entry['observation'], entry['reward'], entry[
        'sampled']
    assert sampled.shape == (2, 5, 3)
    torch.testing.assert_close(sampled.sum(dim=2), torch.ones(2, 5))
    a_logit, a_feat = weighting.agent(obs)
    log_prob = sum(
        torch.distributions.Dirichlet(a * 10.0).log_prob(s)
        for a, s in zip((a_logit, a_feat), sampled))
    expected = -((reward - 0.0) * log_prob).mean()
    torch.testing.assert_close(
        weighting.update_loss(entry), expected)
    update(weighting, weighting.experience.drain())
    torch.testing.assert_close(weighting.baseline, 0.1 * reward.mean())


def test_buffer_is_bounded():
    state = with_cosine(classification_state(num_teachers=2))
    weighting = build(2, buffer_size=4).train()
    for _ in range(10):
        weighting(state)
    assert len(weighting.experience) == 4


def _replay_on_rank(rank, world_size, init_file, out_dir):
    """One gloo rank: two batches of its own experience, then an update
    whose steps average the gradients over the ranks."""
    torch.distributed.init_process_group(
        'gloo', init_method=f'file://{init_file}', rank=rank,
        world_size=world_size)
    from functools import partial

    from mmengine.dist import all_reduce_params
    MessageHub.get_current_instance().update_info('iter', 10**6)
    torch.manual_seed(0)
    weighting = build(3).train()
    torch.save(weighting.agent.state_dict(), f'{out_dir}/initial.pt')
    states = [with_cosine(classification_state(num_teachers=3,
                                               seed=2 * rank + j),
                          seed=2 * rank + j) for j in range(2)]
    for state in states:
        weighting(state)
    batches = weighting.experience.drain()
    torch.save([loss_arguments(s, e['observation'], e['reward'])
                for s, e in zip(states, batches)],
               f'{out_dir}/batches{rank}.pt')
    steps = update(weighting, batches, partial(all_reduce_params, op='mean'))
    torch.save((steps, weighting.agent.state_dict()),
               f'{out_dir}/agent{rank}.pt')
    torch.distributed.destroy_process_group()


def test_update_averages_gradients_over_ranks(tmp_path):
    """Each rank replays its own batches; every step uses the gradient
    averaged over ranks (the reference's DDP agent): two ranks take two
    steps, not four, and end bitwise identical."""
    torch.multiprocessing.spawn(
        _replay_on_rank, args=(2, tmp_path / 'init', tmp_path), nprocs=2)
    initial = torch.load(tmp_path / 'initial.pt')
    batches = [torch.load(tmp_path / f'batches{r}.pt') for r in range(2)]
    expected = reference_sgd_steps(initial, list(zip(*batches)))
    (steps0, agent0), (steps1, agent1) = (
        torch.load(tmp_path / f'agent{r}.pt') for r in range(2))
    assert steps0 == steps1 == 2
    for name, value in agent0.items():
        assert torch.equal(value, agent1[name]), name
        torch.testing.assert_close(value, expected[name], rtol=1e-6,
                                   atol=1e-7)
