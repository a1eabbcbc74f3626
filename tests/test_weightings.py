"""Baseline teacher weightings (AVER, EBKD, CA-MKD, AEKD) on a real
``TeacherState`` built from hand-made records."""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub

from mtkd_mm.losses import KLDivergence
from mtkd_mm.registry import WEIGHTINGS
from mtkd_mm.views.record import ModelRecord, Points
from mtkd_mm.weightings import (AEKD, AVER, CAMKD, EBKD, PoolInfo,
                                TeacherState, confidence_weights,
                                min_norm_simplex)

NUM_CLASSES = 4
TEMPERATURE = 4.0


def fail(name):
    def call():
        raise AssertionError(f'{name} should not be computed')
    return call


def make_state(sample_index, labels, num_samples, teacher_logits,
               connected_ce=None, lazy_kd_grads=True, kd_grads=None,
               seed=0):
    """A TeacherState as the distiller builds it.

    ``teacher_logits``: one (P, C) tensor per teacher, None for a teacher
    that gives features only. ``connected_ce``: (B, K) or None (then
    reading it fails the test). ``kd_grads``: a (K_l, P·C) tensor to
    return, else the real gradients; ``lazy_kd_grads=False``: reading them
    fails the test. The student's logits are random.
    """
    gen = torch.Generator().manual_seed(seed)
    num_points = len(sample_index)
    points = Points(sample_index, labels, num_samples, ignore_index=255)
    student_logits = torch.randn(num_points, NUM_CLASSES,
                                 generator=gen).requires_grad_(True)
    student = ModelRecord(
        features=[torch.randn(num_samples, 3, 2, 2, generator=gen)],
        embedding=torch.randn(num_samples, 5, generator=gen),
        logits=student_logits)
    teachers = [
        ModelRecord(
            features=[torch.randn(num_samples, 3, 2, 2, generator=gen)],
            embedding=torch.randn(num_samples, 6, generator=gen),
            logits=logits) for logits in teacher_logits
    ]
    names = [f't{k}' for k in range(len(teachers))]
    logit_teachers = [k for k, t in enumerate(teacher_logits) if t is not None]
    kl = torch.stack([
        points.mean_per_sample(
            KLDivergence()(student_logits, teachers[k].logits, TEMPERATURE))
        for k in logit_teachers
    ], dim=1)
    feature_loss = torch.rand(num_samples, len(teachers), generator=gen)

    def real_kd_grads():
        if kd_grads is not None:
            return kd_grads
        return torch.stack([
            torch.autograd.grad(kl[:, j].mean(), student_logits,
                                retain_graph=True)[0].flatten()
            for j in range(kl.shape[1])
        ])

    lazy = dict(
        connected_ce=(fail('connected_ce') if connected_ce is None else
                      (lambda: connected_ce)),
        kd_grads=real_kd_grads if lazy_kd_grads else fail('kd_grads'))
    return TeacherState(names, logit_teachers, points, student, teachers, kl,
                        feature_loss, lazy)


def pool_info(names, logit_teachers):
    return PoolInfo(names, logit_teachers, [6] * len(names),
                    [[3]] * len(names), NUM_CLASSES, 1.0)


def random_logits(num_points, num_teachers, seed, scales=None):
    gen = torch.Generator().manual_seed(seed)
    scales = scales or [1.0 + k for k in range(num_teachers)]
    return [
        torch.randn(num_points, NUM_CLASSES, generator=gen) * s
        for s in scales
    ]


def classification_state(num_teachers=3, seed=0, **kwargs):
    """One point per sample, B = 5."""
    gen = torch.Generator().manual_seed(100 + seed)
    labels = torch.randint(0, NUM_CLASSES, (5, ), generator=gen)
    return make_state(torch.arange(5), labels, 5,
                      random_logits(5, num_teachers, seed), seed=seed,
                      **kwargs)


# Detection-like: 11 RoIs over 3 images, indices not sorted, some labels
# ignored.
DET_INDEX = torch.tensor([2, 0, 1, 2, 0, 1, 1, 2, 0, 2, 1])
DET_LABELS = torch.tensor([0, 3, 255, 1, 2, 0, 3, 255, 1, 2, 2])


def detection_state(teacher_logits=None, seed=1, **kwargs):
    if teacher_logits is None:
        teacher_logits = random_logits(len(DET_INDEX), 3, seed)
    return make_state(DET_INDEX, DET_LABELS, 3, teacher_logits, seed=seed,
                      **kwargs)


def feature_only_state(seed=2, **kwargs):
    """Teachers t0, t2 give logits; t1 gives features only."""
    logits = random_logits(len(DET_INDEX), 2, seed)
    return make_state(DET_INDEX, DET_LABELS, 3, [logits[0], None, logits[1]],
                      seed=seed, **kwargs)


# ---------------------------------------------------- reference formulas


def close(actual, expected, rtol=1e-5, atol=1e-6):
    """assert_close in float64 with float32-level tolerances."""
    torch.testing.assert_close(
        torch.as_tensor(actual).double(), torch.as_tensor(expected).double(),
        rtol=rtol, atol=atol)


def reference_entropy(state):
    """(B, K_l) mean over each sample's points of H(softmax(z_t)), loops."""
    index = state.points.sample_index.tolist()
    out = np.zeros((state.num_samples, len(state.logit_teachers)))
    for j, k in enumerate(state.logit_teachers):
        logits = state.teachers[k].logits.double().numpy()
        for b in range(state.num_samples):
            hs = []
            for p, i in enumerate(index):
                if i == b:
                    z = logits[p] - logits[p].max()
                    prob = np.exp(z) / np.exp(z).sum()
                    hs.append(-np.sum(prob * np.log(prob)))
            out[b, j] = np.mean(hs)
    return out


def reference_teacher_ce(state):
    """(B, K_l) F.cross_entropy over each sample's non-ignored points."""
    points = state.points
    out = torch.zeros(state.num_samples, len(state.logit_teachers))
    for j, k in enumerate(state.logit_teachers):
        for b in range(state.num_samples):
            keep = (points.sample_index == b) & (
                points.labels != points.ignore_index)
            if keep.any():
                out[b, j] = F.cross_entropy(state.teachers[k].logits[keep],
                                            points.labels[keep])
    return out


def reference_confidence(ce):
    ce = np.asarray(ce, dtype=np.float64)
    soft = np.exp(ce) / np.exp(ce).sum(axis=1, keepdims=True)
    return (1 - soft) / (ce.shape[1] - 1)


def exact_min_norm(gram):
    """argmin over the simplex of wᵀGw by enumerating supports (KKT)."""
    gram = np.asarray(gram, dtype=np.float64)
    k = gram.shape[0]
    best, best_w = np.inf, None
    for size in range(1, k + 1):
        for support in itertools.combinations(range(k), size):
            sub = gram[np.ix_(support, support)]
            try:
                x = np.linalg.solve(sub, np.ones(size))
            except np.linalg.LinAlgError:
                continue
            if x.sum() <= 0:
                continue
            w_s = x / x.sum()
            if (w_s < -1e-12).any():
                continue
            w = np.zeros(k)
            w[list(support)] = w_s
            value = w @ gram @ w
            if value < best:
                best, best_w = value, w
    return best_w, best


@pytest.fixture
def iteration():
    """Set MessageHub's ``iter``; restored afterwards."""
    hub = MessageHub.get_current_instance()
    missing = object()
    before = hub.runtime_info.get('iter', missing)

    def set_iter(i):
        hub.update_info('iter', i)

    yield set_iter
    if before is missing:
        hub.runtime_info.pop('iter', None)
    else:
        hub.update_info('iter', before)


# -------------------------------------------------- properties of all


ALL_STATES = {
    'classification': classification_state,
    'detection': detection_state,
    'feature_only': feature_only_state,
}
ALL_WEIGHTINGS = {
    'AVER': AVER,
    'EBKD': EBKD,
    'CAMKD': lambda: CAMKD(feature_form='uniform'),
    'AEKD': AEKD,
}


@pytest.mark.parametrize('state_name', list(ALL_STATES))
@pytest.mark.parametrize('method', list(ALL_WEIGHTINGS))
def test_weights_finite_shaped_and_rows_sum_to_one(method, state_name,
                                                    iteration):
    iteration(0)
    state = ALL_STATES[state_name]()
    weights = ALL_WEIGHTINGS[method]()(state)
    b, k, k_l = state.num_samples, state.num_teachers, len(
        state.logit_teachers)
    assert weights.logit.shape == (b, k_l)
    assert weights.feature.shape == (b, k)
    for w in (weights.logit, weights.feature):
        assert torch.isfinite(w).all()
        assert (w >= 0).all()
        torch.testing.assert_close(w.sum(dim=1), torch.ones(b))


@pytest.mark.parametrize('cls', [AVER, EBKD, CAMKD, AEKD])
def test_registered(cls):
    assert type(WEIGHTINGS.build(dict(type=cls.__name__))) is cls


# ---------------------------------------------------------------- AVER


def test_aver_uniform_and_reads_no_lazy_state():
    state = feature_only_state(lazy_kd_grads=False)
    weights = AVER()(state)
    torch.testing.assert_close(weights.logit, torch.full((3, 2), 1 / 2))
    torch.testing.assert_close(weights.feature, torch.full((3, 3), 1 / 3))
    weights = AVER()(classification_state(num_teachers=4,
                                          lazy_kd_grads=False))
    torch.testing.assert_close(weights.logit, torch.full((5, 4), 1 / 4))
    torch.testing.assert_close(weights.feature, torch.full((5, 4), 1 / 4))


# ---------------------------------------------------------------- EBKD


@pytest.mark.parametrize('make', [classification_state, detection_state])
def test_ebkd_matches_entropy_formula(make):
    state = make(lazy_kd_grads=False)
    entropy = reference_entropy(state)
    close(state.entropy.double(),
                               torch.from_numpy(entropy))
    k = entropy.shape[1]
    expected = (1 - entropy / entropy.sum(axis=1, keepdims=True)) / (k - 1)
    weights = EBKD()(state)
    close(weights.logit.double(),
                               torch.from_numpy(expected))
    # Every teacher has logits: feature weights follow the logit weights.
    torch.testing.assert_close(weights.feature, weights.logit)


def test_ebkd_unnormalised_rows_sum_to_k_minus_one():
    state = detection_state(lazy_kd_grads=False)
    entropy = reference_entropy(state)
    weights = EBKD(normalize=False)(state)
    close(
        weights.logit.double(),
        torch.from_numpy(1 - entropy / entropy.sum(axis=1, keepdims=True)))
    torch.testing.assert_close(weights.logit.sum(dim=1), torch.full((3, ), 2.))


def test_ebkd_confident_teacher_weighs_more():
    """Teacher 0 is near one-hot (low entropy), teacher 1 near uniform."""
    sharp = torch.zeros(5, NUM_CLASSES)
    sharp[:, 0] = 20.0
    flat = torch.zeros(5, NUM_CLASSES)
    flat[:, 0] = 0.1
    state = make_state(torch.arange(5), torch.zeros(5, dtype=torch.long), 5,
                       [sharp, flat], lazy_kd_grads=False)
    weights = EBKD()(state)
    assert (weights.logit[:, 0] > 0.99).all()
    assert (weights.logit[:, 1] < 0.01).all()


def test_ebkd_rows_sum_to_one_for_very_confident_teachers():
    """Teachers with logit gaps of 35-40 have entropies ~1e-16..1e-13; the
    weights must still be ``1 − H_ik / Σ_j H_ij`` (rows summing to 1), the
    less uncertain teacher weighing more."""
    sharp = torch.zeros(2, NUM_CLASSES)
    sharp[:, 0] = 40.0
    less_sharp = torch.zeros(2, NUM_CLASSES)
    less_sharp[:, 0] = 35.0
    state = make_state(torch.arange(2), torch.zeros(2, dtype=torch.long), 2,
                       [sharp, less_sharp], lazy_kd_grads=False)
    entropy = reference_entropy(state)
    assert (entropy > 0).all() and (entropy.sum(axis=1) < 1e-12).all()
    weights = EBKD()(state)
    torch.testing.assert_close(weights.logit.sum(dim=1), torch.ones(2))
    close(
        weights.logit.double(),
        torch.from_numpy(1 - entropy / entropy.sum(axis=1, keepdims=True)),
        atol=1e-4, rtol=0)


def test_ebkd_single_teacher_gets_one():
    state = make_state(DET_INDEX, DET_LABELS, 3,
                       random_logits(len(DET_INDEX), 1, 3),
                       lazy_kd_grads=False)
    weights = EBKD()(state)
    torch.testing.assert_close(weights.logit, torch.ones(3, 1))
    torch.testing.assert_close(weights.feature, torch.ones(3, 1))


def test_ebkd_feature_only_teacher_gives_uniform_feature_weights():
    state = feature_only_state(lazy_kd_grads=False)
    entropy = reference_entropy(state)
    weights = EBKD()(state)
    close(
        weights.logit.double(),
        torch.from_numpy(1 - entropy / entropy.sum(axis=1, keepdims=True)))
    torch.testing.assert_close(weights.feature, torch.full((3, 3), 1 / 3))


def test_ebkd_single_logit_teacher_among_two():
    logits = random_logits(len(DET_INDEX), 1, 4)
    state = make_state(DET_INDEX, DET_LABELS, 3, [None, logits[0]],
                       lazy_kd_grads=False)
    weights = EBKD()(state)
    torch.testing.assert_close(weights.logit, torch.ones(3, 1))
    torch.testing.assert_close(weights.feature, torch.full((3, 2), 0.5))


# -------------------------------------------------------------- CA-MKD


def test_confidence_weights_formula():
    ce = torch.tensor([[0.1, 2.0, 1.0], [3.0, 3.0, 3.0], [0.0, 5.0, 0.5]])
    close(confidence_weights(ce).double(),
                               torch.from_numpy(reference_confidence(ce)))
    torch.testing.assert_close(confidence_weights(ce[:, :1]),
                               torch.ones(3, 1))
    # Lower CE, higher weight.
    w = confidence_weights(ce)
    assert w[0, 0] > w[0, 2] > w[0, 1]


@pytest.mark.parametrize('make,num_samples', [(classification_state, 5),
                                              (detection_state, 3)])
def test_camkd_logit_and_connected_feature_weights(make, num_samples,
                                                   iteration):
    iteration(0)
    connected_ce = torch.tensor([[0.5, 1.5, 0.1], [2.0, 0.2, 0.3],
                                 [1.0, 1.0, 4.0], [0.0, 0.7, 0.9],
                                 [3.0, 2.0, 1.0]])[:num_samples]
    state = make(connected_ce=connected_ce, lazy_kd_grads=False)
    ce = reference_teacher_ce(state)
    torch.testing.assert_close(state.teacher_ce, ce)
    weighting = CAMKD()
    assert weighting.teacher_reduction == 'mean'
    assert weighting.needs_feature_classification
    weights = weighting(state)
    close(weights.logit.double(),
                               torch.from_numpy(reference_confidence(ce)))
    close(
        weights.feature.double(),
        torch.from_numpy(reference_confidence(connected_ce)))


def test_camkd_feature_off_iters(iteration):
    connected_ce = torch.tensor([[0.5, 1.5, 0.1], [2.0, 0.2, 0.3],
                                 [1.0, 1.0, 4.0]])
    state = detection_state(connected_ce=connected_ce, lazy_kd_grads=False)
    weighting = CAMKD(feature_off_iters=3)
    for i in (0, 2):
        iteration(i)
        weights = weighting(state)
        assert (weights.feature == 0).all()
        assert weights.feature.shape == (3, 3)
        # The logit term stays on.
        torch.testing.assert_close(weights.logit.sum(dim=1), torch.ones(3))
    for i in (3, 10):
        iteration(i)
        weights = weighting(state)
        close(
            weights.feature.double(),
            torch.from_numpy(reference_confidence(connected_ce)))


def test_camkd_uniform_feature_form_with_feature_only_teacher(iteration):
    iteration(0)
    state = feature_only_state(lazy_kd_grads=False)
    weighting = CAMKD(feature_form='uniform')
    assert not weighting.needs_feature_classification
    weighting.setup(pool_info(state.names, state.logit_teachers))
    weights = weighting(state)
    ce = reference_teacher_ce(state)
    close(weights.logit.double(),
                               torch.from_numpy(reference_confidence(ce)))
    torch.testing.assert_close(weights.feature, torch.full((3, 3), 1 / 3))


def test_camkd_connected_rejects_feature_only_teacher():
    with pytest.raises(ValueError, match='t1'):
        CAMKD().setup(pool_info(['t0', 't1', 't2'], [0, 2]))
    CAMKD().setup(pool_info(['t0', 't1'], [0, 1]))
    with pytest.raises(ValueError):
        CAMKD(feature_form='bogus')


# ---------------------------------------------------------------- AEKD


def test_min_norm_simplex_two_teachers_closed_form():
    gen = torch.Generator().manual_seed(5)
    for _ in range(5):
        g = torch.randn(2, 6, generator=gen, dtype=torch.float64)
        g1, g2 = g
        w1 = ((g2 @ g2 - g1 @ g2) / (g1 - g2).pow(2).sum()).clamp(0, 1)
        w = min_norm_simplex(g @ g.T)
        torch.testing.assert_close(w, torch.stack([w1, 1 - w1]))


def test_min_norm_simplex_clipped_case():
    # g2 = 2·g1: the min-norm point of the segment is g1 itself.
    g = torch.tensor([[1.0, 1.0], [2.0, 2.0]], dtype=torch.float64)
    torch.testing.assert_close(min_norm_simplex(g @ g.T),
                               torch.tensor([1.0, 0.0], dtype=torch.float64))


@pytest.mark.parametrize('k', [3, 4])
def test_min_norm_simplex_near_exact_optimum(k):
    gen = torch.Generator().manual_seed(6 + k)
    for _ in range(3):
        g = torch.randn(k, 8, generator=gen, dtype=torch.float64)
        gram = g @ g.T
        w = min_norm_simplex(gram)
        assert (w >= 0).all()
        close(w.sum(), torch.tensor(1.0).double())
        w_star, best = exact_min_norm(gram.numpy())
        assert float(w @ gram @ w) == pytest.approx(best, rel=2e-2)
        torch.testing.assert_close(w, torch.from_numpy(w_star), atol=3e-2,
                                   rtol=0)


def test_min_norm_simplex_reaches_optimum_on_a_face():
    """g1 = (1, 0), g2 = (0, 1), g3 = (1, 1): the min-norm point of their
    hull is (½, ½), i.e. w* = (½, ½, 0), ‖·‖² = ½. The docs accept a
    Frank–Wolfe solver "if it reaches the same optimum"."""
    g = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                     dtype=torch.float64)
    w = min_norm_simplex(g @ g.T)
    assert float(w @ (g @ g.T) @ w) == pytest.approx(0.5, rel=1e-4)
    torch.testing.assert_close(
        w, torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64), atol=1e-3,
        rtol=0)


def test_min_norm_simplex_brute_force_grid():
    g = torch.tensor([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [-1.0, -1.0, 0.0]],
                     dtype=torch.float64)
    gram = g @ g.T
    steps = torch.linspace(0, 1, 201, dtype=torch.float64)
    a, b = torch.meshgrid(steps, steps, indexing='ij')
    keep = a + b <= 1 + 1e-12
    grid = torch.stack([a[keep], b[keep], (1 - a - b)[keep].clamp(min=0)], 1)
    grid_best = torch.einsum('ni,ij,nj->n', grid, gram, grid).min()
    w = min_norm_simplex(gram)
    assert float(w @ gram @ w) <= float(grid_best) + 1e-4


def test_aekd_weights_from_kd_gradients():
    state = detection_state(seed=7)
    grads = state.kd_grads
    assert grads.shape == (3, len(DET_INDEX) * NUM_CLASSES)
    w_star, _ = exact_min_norm((grads.double() @ grads.double().T).numpy())
    weights = AEKD()(state)
    assert weights.logit.shape == (3, 3)
    # The same weights for every sample.
    torch.testing.assert_close(weights.logit,
                               weights.logit[:1].expand(3, -1))
    close(weights.logit[0].double(),
                               torch.from_numpy(w_star), atol=2e-2, rtol=0)
    torch.testing.assert_close(weights.feature, weights.logit)
    assert weights.logit.dtype == state.kl.dtype


def test_aekd_two_teachers_closed_form():
    state = make_state(DET_INDEX, DET_LABELS, 3,
                       random_logits(len(DET_INDEX), 2, 8), seed=8)
    g1, g2 = state.kd_grads.double()
    w1 = ((g2 @ g2 - g1 @ g2) / (g1 - g2).pow(2).sum()).clamp(0, 1)
    weights = AEKD()(state)
    close(
        weights.logit.double(),
        torch.stack([w1, 1 - w1]).expand(3, -1), atol=1e-6, rtol=0)


def test_aekd_zero_gradient_teacher_gets_everything():
    """A teacher whose KD gradient is zero: the min-norm point is that
    teacher alone."""
    gen = torch.Generator().manual_seed(10)
    grads = torch.stack([torch.randn(16, generator=gen), torch.zeros(16),
                         torch.randn(16, generator=gen)])
    state = make_state(torch.arange(4), torch.arange(4), 4,
                       random_logits(4, 3, 9), kd_grads=grads, seed=9)
    weights = AEKD()(state)
    torch.testing.assert_close(weights.logit,
                               torch.tensor([[0.0, 1.0, 0.0]]).expand(4, -1))


def test_aekd_real_zero_gradient_from_identical_teacher():
    """Teacher 0 predicts exactly the student's logits."""
    seed = 12
    # make_state draws the student logits first from its seed.
    student_logits = torch.randn(4, NUM_CLASSES,
                                 generator=torch.Generator().manual_seed(seed))
    other = torch.randn(4, NUM_CLASSES,
                        generator=torch.Generator().manual_seed(99)) * 3
    state = make_state(torch.arange(4), torch.arange(4), 4,
                       [student_logits, other], seed=seed)
    torch.testing.assert_close(state.student.logits.detach(), student_logits)
    # Zero up to float32 round-off.
    assert state.kd_grads[0].abs().max() < 1e-6
    assert state.kd_grads[1].abs().max() > 1e-2
    weights = AEKD()(state)
    torch.testing.assert_close(weights.logit,
                               torch.tensor([[1.0, 0.0]]).expand(4, -1),
                               atol=1e-4, rtol=0)


def test_aekd_feature_only_teacher_gives_uniform_feature_weights():
    state = feature_only_state(seed=13)
    weights = AEKD()(state)
    assert weights.logit.shape == (3, 2)
    g1, g2 = state.kd_grads.double()
    w1 = ((g2 @ g2 - g1 @ g2) / (g1 - g2).pow(2).sum()).clamp(0, 1)
    close(weights.logit[0].double(),
                               torch.stack([w1, 1 - w1]), atol=1e-6, rtol=0)
    torch.testing.assert_close(weights.feature, torch.full((3, 3), 1 / 3))
