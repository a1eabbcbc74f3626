"""LookAheadTrust (ours): its look-ahead credit against an independent
formula, its state, its rewards and losses, and that its policy learns to
trust the teacher whose credit is higher from the state alone."""
import numpy as np
import pytest
import torch
from mmengine.optim import OptimWrapper

from mtkd_mm.learning.learner import replay
from mtkd_mm.weightings import LookAheadTrust
from mtkd_mm.weightings.look_ahead_trust import (NUM_FEATURES,
                                                 embedding_features,
                                                 neighbourhood_credit,
                                                 standardised_credit,
                                                 trust_observation)
from tests.test_weightings import (NUM_CLASSES, TEMPERATURE,
                                   classification_state, close,
                                   detection_state, make_state, pool_info,
                                   random_logits, softmax_np)


def build(**kwargs):
    weighting = LookAheadTrust(**kwargs)
    weighting.setup(pool_info(['t0', 't1', 't2'], [0, 1, 2]))
    return weighting


def reference_credit(state):
    """(B, K): mean over each sample's labelled points of
    ``T ⟨σ(z_s/T) − σ(z_t/T), σ(z_s) − onehot(y)⟩``, with loops."""
    z_s = state.student.logits.detach().double().numpy()
    p_s_t, p_s = softmax_np(torch.from_numpy(z_s), TEMPERATURE), softmax_np(
        torch.from_numpy(z_s), 1.0)
    labels = state.points.labels.numpy()
    index = state.points.sample_index.numpy()
    out = np.zeros((state.num_samples, len(state.teachers)))
    for k, teacher in enumerate(state.teachers):
        p_t = softmax_np(teacher.logits.double(), TEMPERATURE)
        for b in range(state.num_samples):
            products = []
            for p in np.flatnonzero(index == b):
                if labels[p] == state.points.ignore_index:
                    continue
                ce_grad = p_s[p] - np.eye(NUM_CLASSES)[labels[p]]
                products.append(TEMPERATURE * (p_s_t[p] - p_t[p]) @ ce_grad)
            out[b, k] = np.mean(products)
    return out


@pytest.mark.parametrize('make', [classification_state, detection_state])
def test_lookahead_credit_matches_the_formula(make):
    state = make()
    close(state.lookahead_credit, torch.from_numpy(reference_credit(state)),
          rtol=1e-5, atol=1e-7)


def test_lookahead_credit_is_the_first_order_loss_change():
    """One small step of the sample's point logits along −∂KL_k lowers
    its CE by η·credit, to first order."""
    state = detection_state()
    credit = state.lookahead_credit
    logits = state.student.logits
    counts = torch.bincount(state.points.sample_index)
    step = 1e-6
    for k in range(3):
        grad = torch.autograd.grad(state._kl[:, k].sum(), logits,
                                   retain_graph=True)[0].double()
        # the KL is a mean over n_i points: scale its step back by n_i
        before = logits.detach().double()
        moved = before - step * grad * counts[
            state.points.sample_index][:, None]
        change = (state.points.cross_entropy(before) -
                  state.points.cross_entropy(moved)) / step
        close(change, credit[:, k], rtol=1e-3, atol=1e-5)


def test_a_right_teacher_earns_more_credit_than_a_wrong_one():
    labels = torch.tensor([0, 1, 2, 3, 0])
    right = torch.nn.functional.one_hot(labels, NUM_CLASSES).float() * 8
    wrong = torch.nn.functional.one_hot((labels + 1) % NUM_CLASSES,
                                        NUM_CLASSES).float() * 8
    state = make_state(torch.arange(5), labels, 5, [right, wrong])
    credit = state.lookahead_credit
    assert (credit[:, 0] > 0).all() and (credit[:, 0] > credit[:, 1]).all()


def test_the_state_is_normalised_per_feature():
    state = classification_state()
    observation = trust_observation(state)
    assert observation.shape == (5, 3, NUM_FEATURES)
    close(observation.mean(dim=(0, 1)), torch.zeros(NUM_FEATURES),
          atol=1e-6)
    close(observation.std(dim=(0, 1), unbiased=False),
          torch.ones(NUM_FEATURES), atol=1e-5)
    raw = trust_observation(state, normalise=False)
    close(raw[..., 0], state.teacher_ce)
    close(raw[..., 1], state.kl)
    close(raw[..., 3], state.student_ce[:, None].expand(5, 3))
    close(raw[..., 4], state.teacher_ce -
          state.teacher_ce.mean(dim=1, keepdim=True))


def test_first_weights_are_uniform_and_stored_with_the_credit():
    weighting = build()
    state = classification_state()
    weights = weighting(state)
    close(weights.logit, torch.full((5, 3), 1 / 3))
    close(weights.feature, weights.logit)
    (entry, ) = weighting.experience.drain()
    close(entry['credit'], state.lookahead_credit)
    assert entry['observation'].shape == (5, 3, NUM_FEATURES)
    best = torch.nn.functional.one_hot(
        state.lookahead_credit.argmax(dim=1), 3).float()
    close(weights.extras['best_credit'], best)
    right = torch.stack([
        teacher.logits.argmax(dim=1) == state.points.labels
        for teacher in state.teachers
    ], dim=1)
    close(weights.extras['best_credit_right'], best * right)


@pytest.mark.parametrize('trusted', [('logit', ), ('feature', )])
def test_the_untrusted_term_gets_equal_weights(trusted):
    torch.manual_seed(0)
    weighting = build(trusted=trusted)
    for param in weighting.scorer.parameters():
        param.data.normal_()
    weights = weighting(classification_state())
    trust, other = ((weights.logit, weights.feature) if trusted == ('logit', )
                    else (weights.feature, weights.logit))
    close(other, torch.full((5, 3), 1 / 3))
    assert (trust - 1 / 3).abs().max() > 0.05
    close(trust.sum(dim=1), torch.ones(5))


def test_a_uniform_share_softens_the_trusted_weights():
    """uniform_share ε: the applied weights are (1 − ε) π + ε / K, π the
    policy's own output (the weights with ε = 0, same parameters)."""
    torch.manual_seed(0)
    sharp = build()
    for param in sharp.scorer.parameters():
        param.data.normal_()
    soft = build(uniform_share=0.3)
    soft.load_state_dict(sharp.state_dict())
    state = classification_state()
    trust = sharp(state).logit
    weights = soft(state)
    close(weights.logit, 0.7 * trust + 0.1)
    close(weights.feature, weights.logit)
    assert (trust - 1 / 3).abs().max() > 0.05


def test_expected_policy_loss():
    """−mean_i (Σ_k π_ik ĉ_ik + α H(π_i)), ĉ the credit relative to the
    sample's teacher mean in units of the batch spread."""
    weighting = build(entropy_weight=0.3)
    gen = torch.Generator().manual_seed(0)
    entry = dict(observation=torch.randn(4, 3, NUM_FEATURES,
                                         generator=gen),
                 credit=torch.randn(4, 3, generator=gen))
    torch.nn.init.normal_(weighting.scorer.net[-1].weight, generator=gen)
    trust = weighting.scorer(entry['observation']).softmax(
        dim=1).detach().double()
    relative = entry['credit'].double() - entry['credit'].double().mean(
        dim=1, keepdim=True)
    scaled = relative / relative.std(unbiased=False)
    close(standardised_credit(entry['credit']), scaled)
    entropy = -(trust * trust.log()).sum(dim=1)
    expected = -((trust * scaled).sum(dim=1) + 0.3 * entropy).mean()
    close(weighting.update_loss(entry), expected)


def test_reference_reward_uses_the_applied_weights():
    weighting = build(policy='reinforce', reward='reference',
                      credit_neighbourhood=0)
    state = classification_state()
    torch.manual_seed(0)
    weights = weighting(state)
    assert not torch.allclose(weights.logit, torch.full((5, 3), 1 / 3))
    close(weights.logit.sum(dim=1), torch.ones(5))
    (entry, ) = weighting.experience.drain()
    close(entry['weights'], weights.logit)
    close(entry['reward'], -(state.student_ce +
                             (weights.logit * state.kl).sum(dim=1) +
                             (weights.logit * state.feature_loss).sum(dim=1)))
    weighting.eval()
    close(weighting(state).logit, torch.full((5, 3), 1 / 3))
    assert len(weighting.experience) == 0


@pytest.mark.parametrize('policy,reward', [
    ('expected', 'lookahead'), ('reinforce', 'lookahead'),
    ('surrogate', 'lookahead'), ('reinforce', 'reference'),
    ('surrogate', 'reference')])
def test_every_policy_gives_a_finite_loss_with_gradients(policy, reward):
    weighting = build(policy=policy, reward=reward,
                      credit_neighbourhood=0)
    weighting(detection_state())
    (entry, ) = weighting.experience.drain()
    loss = weighting.update_loss(entry)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None for p in weighting.scorer.parameters())


def test_the_policy_learns_to_trust_the_teacher_with_more_credit():
    """Three teachers; on every sample one of them (a different one per
    sample) is right and the others are confidently wrong. From the state
    alone, the policy learns to put ≥ 0.9 on the right one on average and
    ≥ 0.75 on each sample, on samples it has not seen."""
    def batch(seed):
        gen = torch.Generator().manual_seed(seed)
        labels = torch.randint(0, NUM_CLASSES, (16, ), generator=gen)
        right = torch.randint(0, 3, (16, ), generator=gen)
        onehot = torch.nn.functional.one_hot
        teachers = []
        for k in range(3):
            target = torch.where(right == k, labels, (labels + 1 + k) %
                                 NUM_CLASSES)
            teachers.append(onehot(target, NUM_CLASSES).float() * 6 +
                            random_logits(16, 1, seed + 50 + k)[0])
        return make_state(torch.arange(16), labels, 16, teachers,
                          seed=seed), right

    weighting = build()
    optim = OptimWrapper(torch.optim.Adam(weighting.parameters(), lr=1e-2))
    for seed in range(30):
        weighting(batch(seed)[0])
        replay(weighting, optim, weighting.experience.drain())
    weighting.eval()
    state, right = batch(1000)
    on_right = weighting(state).logit.gather(1, right[:, None])
    assert on_right.mean() >= 0.9 and on_right.min() >= 0.75


@pytest.mark.parametrize('signal', ['direction', 'scale'])
def test_competence_heads_learn_where_each_teacher_is_right(signal):
    """Three domains; the state is the same for every teacher, only the
    teachers' embeddings tell the domain (by their direction, or by their
    scale: each teacher responds more strongly to its own domain), and the
    credit favours the domain's teacher on 70 % of its samples only. With
    competence heads the policy puts ≥ 0.9 on the domain's teacher on
    unseen samples (observing the embeddings alone or beside the state);
    from the state alone it cannot tell the teachers apart."""
    prototypes = torch.randn(3, 6, generator=torch.Generator().manual_seed(99))

    def entry(seed):
        gen = torch.Generator().manual_seed(seed)
        domain = torch.randint(0, 3, (32, ), generator=gen)
        if signal == 'direction':
            embeddings = [prototypes[domain] + 0.5 * torch.randn(
                32, 6, generator=gen) for _ in range(3)]
        else:
            embeddings = [(prototypes[0] + 0.5 * torch.randn(
                32, 6, generator=gen)) * (1 + 4 * (domain == k)[:, None])
                for k in range(3)]
        lucky = torch.randint(0, 3, (32, ), generator=gen)
        best = torch.where(torch.rand(32, generator=gen) < 0.7, domain, lucky)
        credit = torch.nn.functional.one_hot(best, 3).float() + 0.1 * (
            torch.randn(32, 3, generator=gen))
        return dict(observation=torch.zeros(32, 3, NUM_FEATURES),
                    embeddings=embedding_features(embeddings),
                    credit=credit), domain

    def entries(seeds, policy_input):
        for seed in seeds:
            values, domain = entry(seed)
            if policy_input == 'state':
                del values['embeddings']
            if policy_input == 'embeddings':
                del values['observation']
            yield values, domain

    for policy_input in ('embeddings', 'both', 'state'):
        weighting = build(policy_input=policy_input)
        optim = OptimWrapper(torch.optim.Adam(weighting.parameters(),
                                              lr=1e-2))
        replay(weighting, optim,
               [values for values, _ in entries(range(300), policy_input)])
        ((test, domain), ) = entries([1000], policy_input)
        test.pop('credit')
        trust = weighting._trust(**test)
        if policy_input != 'state':
            assert trust.gather(1, domain[:, None]).mean() >= 0.9
        else:
            close(trust, torch.full((32, 3), 1 / 3), atol=1e-3)


def test_competence_heads_read_and_store_the_embeddings():
    """Per teacher: its embedding standardised, then its log RMS."""
    weighting = build(policy_input='embeddings')
    assert set(weighting.reads) == {'lookahead_credit', 'teacher_accuracy',
                                   'embeddings'}
    state = detection_state()
    weighting(state)
    (entry, ) = weighting.experience.drain()
    assert 'observation' not in entry
    assert entry['embeddings'].shape == (state.num_samples, 3 * 7)
    first = state.teachers[0].embedding.double()
    close(entry['embeddings'][:, :6],
          (first - first.mean(dim=1, keepdim=True)) /
          first.var(dim=1, unbiased=False, keepdim=True).add(1e-5).sqrt(),
          atol=1e-4)
    close(entry['embeddings'][:, 6], first.square().mean(dim=1).sqrt().log())


def test_neighbourhood_credit_is_the_mean_over_the_nearest_samples():
    features = torch.tensor([[0.0], [0.1], [5.0], [5.3], [9.0]])
    credit = torch.tensor([[1., 0.], [3., 0.], [0., 2.], [0., 4.], [7., 7.]])
    # 0.4 of 5 samples: each sample and its nearest other one
    close(neighbourhood_credit(credit, features, 0.4),
          torch.tensor([[2., 0.], [2., 0.], [0., 3.], [0., 3.], [3.5, 5.5]]))
    close(neighbourhood_credit(credit, features, 1.0),
          credit.mean(dim=0).expand(5, 2))
    close(neighbourhood_credit(credit, features, 0.01), credit)


def test_the_update_learns_from_the_neighbourhood_credit_of_its_samples():
    """The credit of every stored sample, averaged over its nearest
    samples of all the update's entries, replaces the stored credit."""
    weighting = build(credit_neighbourhood=0.5)
    assert 'embeddings' in weighting.reads
    states = [detection_state(), detection_state()]
    for state in states:
        weighting(state)
    entries = weighting.experience.drain()
    assert all('embeddings' in e and 'observation' in e for e in entries)
    credit = neighbourhood_credit(
        torch.cat([s.lookahead_credit for s in states]),
        torch.cat([embedding_features(s.embeddings) for s in states]), 0.5)
    seen = []
    weighting.update_loss = lambda entry: seen.append(entry['credit']) or (
        weighting._trust(entry['observation']).sum())
    optim = OptimWrapper(torch.optim.SGD(weighting.parameters(), lr=0.1))
    weighting.learn(optim, entries)
    close(torch.cat(seen), credit)
    assert not torch.allclose(credit, torch.cat(
        [s.lookahead_credit for s in states]))


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match='credit_neighbourhood needs '
                       "policy='expected'"):
        LookAheadTrust(policy='reinforce', credit_neighbourhood=0.25)
    with pytest.raises(ValueError, match=r'share in \[0, 1\], got 4'):
        LookAheadTrust(credit_neighbourhood=4)
    with pytest.raises(ValueError, match="policy='expected' needs a reward "
                       'per teacher'):
        LookAheadTrust(reward='reference')
    with pytest.raises(ValueError, match="reward must be 'lookahead'"):
        LookAheadTrust(reward='quiz')
    with pytest.raises(ValueError, match="policy must be 'expected'"):
        LookAheadTrust(policy='ppo')
    with pytest.raises(ValueError, match="policy_input must be 'state'"):
        LookAheadTrust(policy_input='image')
    with pytest.raises(ValueError, match=r'uniform_share must be in \[0, 1\), '
                       'got 1'):
        LookAheadTrust(uniform_share=1)
    with pytest.raises(ValueError, match="trusted must name 'logit'"):
        LookAheadTrust(trusted=('logits', ))
    with pytest.raises(ValueError, match='needs logits from every teacher'):
        LookAheadTrust().setup(pool_info(['t0', 't1'], [0]))
