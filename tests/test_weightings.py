"""Baseline teacher weightings (AVER, EBKD, CA-MKD, AEKD) on a real
``TeacherState`` built from hand-made records, checked against the CA-MKD
reference code (Rorozhl/CA-MKD ``helper/loops.py``,
``helper/optimization.py``) reproduced here."""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from sklearn.svm import OneClassSVM

from mtkd_mm.losses import KLDivergence
from mtkd_mm.registry import WEIGHTINGS
from mtkd_mm.structures import ModelRecord, Points, TeacherState
from mtkd_mm.weightings import (AEKD, AVER, CAMKD, EBKD, PoolInfo,
                                confidence_weights, min_norm_simplex,
                                weighted_teacher_loss)

NUM_CLASSES = 4
TEMPERATURE = 4.0


def make_state(sample_index, labels, num_samples, teacher_logits,
               connected_ce=None, lazy_kd_grads=True, kd_grads=None,
               seed=0):
    """A TeacherState as the distiller builds it.

    ``teacher_logits``: one (P, C) tensor per teacher, None for a teacher
    that gives features only. ``connected_ce``: (B, K) or None (then
    reading it fails the test). ``kd_grads``: a (K_l, C) tensor to give,
    else the state's batch-mean gradients; ``lazy_kd_grads=False``:
    reading them fails the test. The student's logits are random.
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

    given = {
        name: value
        for name, value in (('connected_ce', connected_ce),
                            ('kd_grads', kd_grads)) if value is not None
    }
    refused = {'connected_ce'} if connected_ce is None else set()
    if not lazy_kd_grads:
        refused.add('kd_grads')
    return TeacherState(
        names, logit_teachers, points, student, teachers, kl, feature_loss,
        given=given, reads=set(TeacherState.QUANTITIES) - refused,
        reader='the test')


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


def softmax_np(logits, temperature=1.0):
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


def per_sample_mean(state, values):
    """(P,) numpy → (B,): the mean over each sample's points, loops."""
    index = state.points.sample_index.tolist()
    return np.array([
        np.mean([v for v, i in zip(values, index) if i == b])
        for b in range(state.num_samples)
    ])


def reference_kl(state):
    """(B, K_l) per-sample mean over the points of CA-MKD's ``DistillKL``
    with ``is_ca=True``: ``T² · Σ_c p_t (log p_t − log p_s)``, p = σ(z / T)."""
    p_s = softmax_np(state.student.logits.detach().double(), TEMPERATURE)
    out = np.zeros((state.num_samples, len(state.logit_teachers)))
    for j, k in enumerate(state.logit_teachers):
        p_t = softmax_np(state.teachers[k].logits.double(), TEMPERATURE)
        kl = TEMPERATURE**2 * (p_t * (np.log(p_t) - np.log(p_s))).sum(axis=1)
        out[:, j] = per_sample_mean(state, kl)
    return out


def reference_kd_grads(state):
    """(K_l, C) analytic batch-mean gradient: point p of sample b, with n_b
    points, gets ``T (σ(z_s/T) − σ(z_t/T)) / (B · n_b)`` from
    ``mean_b mean_{p∈b} KL_p``; then the mean over the P points."""
    index = state.points.sample_index.numpy()
    counts = np.bincount(index, minlength=state.num_samples)[index]
    p_s = softmax_np(state.student.logits.detach().double(), TEMPERATURE)
    grads = []
    for k in state.logit_teachers:
        p_t = softmax_np(state.teachers[k].logits.double(), TEMPERATURE)
        per_point = TEMPERATURE * (p_s - p_t) / (
            state.num_samples * counts[:, None])
        grads.append(per_point.mean(axis=0))
    return np.stack(grads)


def reference_distill_kl(logit_s, logit_t, temperature):
    """CA-MKD ``distiller_zoo/KD.py`` ``DistillKL`` (``is_ca=False``)."""
    p_s = F.log_softmax(logit_s / temperature, dim=1)
    p_t = F.softmax(logit_t / temperature, dim=1)
    return torch.nn.KLDivLoss(reduction='batchmean')(p_s,
                                                     p_t) * temperature**2


def reference_per_sample_grads(state):
    """(K, B, C): what the reference's hook on ``logit_s`` collects, the
    gradient of each teacher's ``DistillKL`` loss (classification)."""
    grads = []
    for k in state.logit_teachers:
        logit_s = state.student.logits.detach().double().requires_grad_()
        loss = reference_distill_kl(logit_s, state.teachers[k].logits.double(),
                                    TEMPERATURE)
        grads.append(torch.autograd.grad(loss, logit_s)[0])
    return torch.stack(grads).numpy()


def reference_find_optimal_svm(vecs, nu):
    """CA-MKD ``helper/optimization.py`` ``find_optimal_svm`` with
    ``is_norm=False`` (the reference's default ``--svm_norm``), in numpy.
    One change: G is divided by its largest entry, so that libsvm's absolute
    tolerance 1e-6 is small next to it (the weights do not depend on G's
    scale)."""
    m = vecs.shape[0]
    vec_mean = vecs.reshape(m, vecs.shape[1], -1).mean(axis=1)
    gram = vec_mean @ vec_mean.T
    gram = gram / np.abs(gram).max()
    if nu == -1:
        nu = 1 / m
    elif nu > 1:
        nu = 1
    elif nu < 1 / m:
        nu = 1 / m
    svm = OneClassSVM(kernel='precomputed', nu=nu, tol=1e-6)
    svm.fit(gram)
    ret = np.zeros(m)
    ret[svm.support_] = svm.dual_coef_ / (m * nu)
    return ret


def reference_nu(num_teachers, c=0.6):
    """``train_student.py:142``: ``opt.nu = 1 / (opt.C * teacher_num)``."""
    return 1 / (c * num_teachers)


def two_teacher_min_norm(g1, g2, cap=1.0):
    """Closed form on the segment: w1 = (g2·g2 − g1·g2) / ‖g1 − g2‖²,
    clamped into [1 − cap, cap]."""
    w1 = ((g2 @ g2 - g1 @ g2) / (g1 - g2).pow(2).sum()).clamp(1 - cap, cap)
    return torch.stack([w1, 1 - w1])


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


def expected_row_sum(method, num_teachers):
    """EBKD's reference weights sum to K − 1 (a single teacher gets 1); the
    others' to 1."""
    if method == 'EBKD' and num_teachers > 1:
        return num_teachers - 1.0
    return 1.0


@pytest.mark.parametrize('state_name', list(ALL_STATES))
@pytest.mark.parametrize('method', list(ALL_WEIGHTINGS))
def test_weights_finite_shaped_and_rows_sum_as_documented(method, state_name,
                                                          iteration):
    iteration(0)
    state = ALL_STATES[state_name]()
    weights = ALL_WEIGHTINGS[method]()(state)
    b, k, k_l = state.num_samples, state.num_teachers, len(
        state.logit_teachers)
    assert weights.logit.shape == (b, k_l)
    assert weights.feature.shape == (b, k)
    for w, teachers in ((weights.logit, k_l), (weights.feature, k)):
        assert torch.isfinite(w).all()
        assert (w >= 0).all()
        torch.testing.assert_close(
            w.sum(dim=1),
            torch.full((b, ), expected_row_sum(method, teachers)))


@pytest.mark.parametrize('cls', [AVER, EBKD, CAMKD, AEKD])
def test_registered(cls):
    assert type(WEIGHTINGS.build(dict(type=cls.__name__))) is cls


def test_weighted_teacher_loss_sums_or_averages_teachers():
    weights = torch.tensor([[0.2, 0.8], [0.5, 0.5], [1.0, 0.0]])
    losses = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    total = (0.2 * 1 + 0.5 * 3 + 5) / 3 + (0.8 * 2 + 0.5 * 4) / 3
    close(weighted_teacher_loss(weights, losses, 'sum'), torch.tensor(total))
    close(weighted_teacher_loss(weights, losses, 'mean'),
          torch.tensor(total / 2))
    with pytest.raises(ValueError, match='teacher_reduction'):
        weighted_teacher_loss(weights, losses, 'max')


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
    """Default (the reference's): ``1 − H_ik / Σ_j H_ij``, rows summing to
    K − 1, teacher losses averaged; ``normalize=True`` (ours): divided by
    K − 1, teacher losses summed."""
    state = make(lazy_kd_grads=False)
    entropy = reference_entropy(state)
    close(state.entropy.double(), torch.from_numpy(entropy))
    k = entropy.shape[1]
    expected = 1 - entropy / entropy.sum(axis=1, keepdims=True)
    weighting = EBKD()
    assert weighting.teacher_reduction == 'mean'
    weights = weighting(state)
    close(weights.logit.double(), torch.from_numpy(expected))
    torch.testing.assert_close(weights.logit.sum(dim=1),
                               torch.full((state.num_samples, ), k - 1.0))
    # Every teacher has logits: feature weights follow the logit weights.
    torch.testing.assert_close(weights.feature, weights.logit)
    ours = EBKD(normalize=True)
    assert ours.teacher_reduction == 'sum'
    close(ours(state).logit.double(), torch.from_numpy(expected / (k - 1)))


@pytest.mark.parametrize('make', [classification_state, detection_state])
def test_ebkd_default_loss_is_the_reference(make):
    """CA-MKD ``loops.py:204-219``: ``Σ_i Σ_k (1 − H_ik / Σ_j H_ij) · KL_ik
    / (B · K)``, H and the T²-scaled KL computed here with numpy from the
    logits. Classification: per sample, as the reference; detection (no
    reference): H and KL are the per-sample means over the RoIs. With
    ``normalize=True`` (ours) the loss is K / (K − 1) times that."""
    state = make(lazy_kd_grads=False)
    entropy = reference_entropy(state)
    kl = reference_kl(state)
    b, k = kl.shape
    expected = ((1 - entropy / entropy.sum(axis=1, keepdims=True)) *
                kl).sum() / (b * k)
    for weighting, factor in ((EBKD(), 1.0),
                              (EBKD(normalize=True), k / (k - 1))):
        loss = weighted_teacher_loss(
            weighting(state).logit, state.kl, weighting.teacher_reduction)
        close(loss, torch.tensor(expected * factor))


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
    """Feature weights are those of equal entropies: 1 − 1/K each (rows
    summing to K − 1), or 1/K with ``normalize=True``."""
    state = feature_only_state(lazy_kd_grads=False)
    entropy = reference_entropy(state)
    weights = EBKD()(state)
    close(
        weights.logit.double(),
        torch.from_numpy(1 - entropy / entropy.sum(axis=1, keepdims=True)))
    torch.testing.assert_close(weights.feature, torch.full((3, 3), 2 / 3))
    weights = EBKD(normalize=True)(state)
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
    assert 'connected_ce' in weighting.reads
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
    assert 'connected_ce' not in weighting.reads
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


@pytest.mark.parametrize('cap', [1.0, 0.6])
def test_min_norm_simplex_two_teachers_closed_form(cap):
    gen = torch.Generator().manual_seed(5)
    for _ in range(5):
        g = torch.randn(2, 6, generator=gen, dtype=torch.float64)
        torch.testing.assert_close(min_norm_simplex(g @ g.T, cap=cap),
                                   two_teacher_min_norm(*g, cap=cap))


def test_min_norm_simplex_clipped_case():
    # g2 = 2·g1: the min-norm point of the segment is g1 itself, or as near
    # to it as the cap allows.
    g = torch.tensor([[1.0, 1.0], [2.0, 2.0]], dtype=torch.float64)
    torch.testing.assert_close(min_norm_simplex(g @ g.T, cap=1.0),
                               torch.tensor([1.0, 0.0], dtype=torch.float64))
    torch.testing.assert_close(min_norm_simplex(g @ g.T, cap=0.6),
                               torch.tensor([0.6, 0.4], dtype=torch.float64))


@pytest.mark.parametrize('k', [3, 4])
def test_min_norm_simplex_exact_optimum(k):
    gen = torch.Generator().manual_seed(6 + k)
    for _ in range(3):
        g = torch.randn(k, 8, generator=gen, dtype=torch.float64)
        gram = g @ g.T
        w = min_norm_simplex(gram, cap=1.0)
        assert (w >= 0).all()
        close(w.sum(), torch.tensor(1.0).double())
        w_star, best = exact_min_norm(gram.numpy())
        assert float(w @ gram @ w) == pytest.approx(best, rel=1e-9)
        torch.testing.assert_close(w, torch.from_numpy(w_star), atol=1e-8,
                                   rtol=0)


def test_min_norm_simplex_reaches_optimum_on_a_face():
    """g1 = (1, 0), g2 = (0, 1), g3 = (1, 1): the min-norm point of their
    hull is (½, ½), i.e. w* = (½, ½, 0), ‖·‖² = ½."""
    g = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                     dtype=torch.float64)
    w = min_norm_simplex(g @ g.T, cap=1.0)
    assert float(w @ (g @ g.T) @ w) == pytest.approx(0.5, rel=1e-9)
    torch.testing.assert_close(
        w, torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64), atol=1e-9,
        rtol=0)


@pytest.mark.parametrize('cap', [1.0, 0.6, 0.4])
def test_min_norm_simplex_brute_force_grid(cap):
    """No point of a 1/200 grid on the capped simplex does better."""
    g = torch.tensor([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [-1.0, -1.0, 0.0]],
                     dtype=torch.float64)
    gram = g @ g.T
    steps = torch.linspace(0, 1, 201, dtype=torch.float64)
    a, b = torch.meshgrid(steps, steps, indexing='ij')
    grid = torch.stack([a, b, 1 - a - b], dim=-1).reshape(-1, 3)
    grid = grid[((grid > -1e-12) & (grid < cap + 1e-12)).all(dim=1)]
    grid_best = torch.einsum('ni,ij,nj->n', grid, gram, grid).min()
    w = min_norm_simplex(gram, cap=cap)
    assert (w >= 0).all() and (w <= cap + 1e-12).all()
    close(w.sum(), torch.tensor(1.0).double())
    assert float(w @ gram @ w) <= float(grid_best) + 1e-12


def test_min_norm_simplex_rejects_cap_below_one_over_k():
    with pytest.raises(ValueError, match='cap'):
        min_norm_simplex(torch.eye(3, dtype=torch.float64), cap=0.3)


def distinct_teachers_state(num_teachers, seed):
    """Classification, B = 5, every teacher unlike the student (in the
    states above teacher 0 is drawn from the student's own seed: it equals
    the student)."""
    gen = torch.Generator().manual_seed(100 + seed)
    labels = torch.randint(0, NUM_CLASSES, (5, ), generator=gen)
    return make_state(torch.arange(5), labels, 5,
                      random_logits(5, num_teachers, 50 + seed), seed=seed)


def identical_teacher_state(num_teachers, seed=12):
    """Classification, B = 4: teacher 0 predicts exactly the student's
    logits (its KD gradient is zero up to float32 round-off)."""
    # make_state draws the student logits first from its seed.
    student_logits = torch.randn(4, NUM_CLASSES,
                                 generator=torch.Generator().manual_seed(seed))
    others = random_logits(4, num_teachers - 1, 99,
                           scales=[3.0, 1.5][:num_teachers - 1])
    state = make_state(torch.arange(4), torch.arange(4), 4,
                       [student_logits] + others, seed=seed)
    torch.testing.assert_close(state.student.logits.detach(), student_logits)
    return state


@pytest.mark.parametrize('make', [classification_state, detection_state,
                                  feature_only_state])
def test_kd_grads_are_batch_mean_gradients(make):
    """The distiller's kd_grads: (K_l, C), the gradient of each teacher's
    mean KD loss w.r.t. the student logits averaged over the points,
    against the analytic gradient."""
    state = make()
    assert state.kd_grads.shape == (len(state.logit_teachers), NUM_CLASSES)
    close(state.kd_grads, torch.from_numpy(reference_kd_grads(state)),
          rtol=1e-5, atol=1e-7)


def test_kd_grads_equal_the_reference_hook_gradients_averaged():
    """Classification: the mean over the batch of what the reference's hook
    on ``logit_s`` collects (``find_optimal_svm``'s ``vec_mean``)."""
    state = distinct_teachers_state(3, seed=4)
    close(state.kd_grads,
          torch.from_numpy(reference_per_sample_grads(state).mean(axis=1)),
          rtol=1e-5, atol=1e-7)


REFERENCE_SVM_CASES = {
    'two_teachers': lambda: distinct_teachers_state(2, seed=7),
    'three_teachers': lambda: distinct_teachers_state(3, seed=7),
    'three_teachers_one_capped': lambda: distinct_teachers_state(3, seed=4),
    'three_teachers_cap_binds': lambda: identical_teacher_state(3),
    'two_teachers_cap_binds': lambda: identical_teacher_state(2),
}


@pytest.mark.parametrize('case', list(REFERENCE_SVM_CASES))
def test_aekd_matches_reference_svm(case):
    """The CA-MKD reference: ``find_optimal_svm`` (sklearn's OneClassSVM
    on the batch-mean gradients of ``DistillKL``, ν = 1/(0.6·K)), against
    AEKD's default. Seed 7: no weight at the cap; seed 4: teacher 0 at the
    cap; ``cap_binds``: teacher 0 predicts the student's logits, its zero
    gradient gets the cap, 0.6."""
    state = REFERENCE_SVM_CASES[case]()
    k = len(state.logit_teachers)
    expected = reference_find_optimal_svm(reference_per_sample_grads(state),
                                          reference_nu(k))
    weights = AEKD()(state)
    close(weights.logit,
          torch.from_numpy(expected).expand(state.num_samples, -1), rtol=0,
          atol=1e-4)
    if 'binds' in case:
        assert expected[0] == pytest.approx(0.6, abs=1e-4)
        assert float(weights.logit[0, 0]) == pytest.approx(0.6, abs=1e-6)


def test_aekd_uncapped_weights_from_kd_gradients():
    """``max_weight=1.0`` (ours): the min-norm point of the plain simplex."""
    state = detection_state(seed=7)
    grads = state.kd_grads.double()
    w_star, _ = exact_min_norm((grads @ grads.T).numpy())
    weights = AEKD(max_weight=1.0)(state)
    assert weights.logit.shape == (3, 3)
    # The same weights for every sample.
    torch.testing.assert_close(weights.logit,
                               weights.logit[:1].expand(3, -1))
    close(weights.logit[0].double(), torch.from_numpy(w_star), atol=1e-6,
          rtol=0)
    torch.testing.assert_close(weights.feature, weights.logit)
    assert weights.logit.dtype == state.kl.dtype


@pytest.mark.parametrize('max_weight', [0.6, 1.0])
def test_aekd_two_teachers_closed_form(max_weight):
    state = make_state(DET_INDEX, DET_LABELS, 3,
                       random_logits(len(DET_INDEX), 2, 8), seed=8)
    expected = two_teacher_min_norm(*state.kd_grads.double(), cap=max_weight)
    weights = AEKD(max_weight=max_weight)(state)
    close(weights.logit.double(), expected.expand(3, -1), atol=1e-6, rtol=0)


def test_aekd_zero_gradient_teacher_gets_the_cap():
    """A teacher whose KD gradient is zero gets the cap, 0.6 (``max_weight
    =1.0``: everything); the other two share the rest as the min-norm point
    of their segment."""
    gen = torch.Generator().manual_seed(10)
    g0, g2 = torch.randn(2, NUM_CLASSES, generator=gen, dtype=torch.float64)
    grads = torch.stack([g0, torch.zeros_like(g0), g2]).float()
    state = make_state(torch.arange(4), torch.arange(4), 4,
                       random_logits(4, 3, 9), kd_grads=grads, seed=9)
    share = two_teacher_min_norm(g0, g2)
    expected = torch.stack([0.4 * share[0], torch.tensor(0.6).double(),
                            0.4 * share[1]])
    close(AEKD()(state).logit, expected.expand(4, -1), rtol=0, atol=1e-6)
    torch.testing.assert_close(AEKD(max_weight=1.0)(state).logit,
                               torch.tensor([[0.0, 1.0, 0.0]]).expand(4, -1))


def test_aekd_real_zero_gradient_from_identical_teacher():
    state = identical_teacher_state(2)
    # Zero up to float32 round-off.
    assert state.kd_grads[0].abs().max() < 1e-6
    assert state.kd_grads[1].abs().max() > 1e-2
    torch.testing.assert_close(AEKD()(state).logit,
                               torch.tensor([[0.6, 0.4]]).expand(4, -1),
                               atol=1e-4, rtol=0)
    torch.testing.assert_close(AEKD(max_weight=1.0)(state).logit,
                               torch.tensor([[1.0, 0.0]]).expand(4, -1),
                               atol=1e-4, rtol=0)


def test_aekd_single_teacher_gets_one():
    """The reference clamps ν into [1/K, 1]: with K = 1 the cap is 1."""
    state = make_state(DET_INDEX, DET_LABELS, 3,
                       random_logits(len(DET_INDEX), 1, 3))
    torch.testing.assert_close(AEKD()(state).logit, torch.ones(3, 1))


def test_aekd_feature_only_teacher_gives_uniform_feature_weights():
    state = feature_only_state(seed=13)
    weights = AEKD()(state)
    assert weights.logit.shape == (3, 2)
    close(weights.logit[0].double(),
          two_teacher_min_norm(*state.kd_grads.double(), cap=0.6), atol=1e-6,
          rtol=0)
    torch.testing.assert_close(weights.feature, torch.full((3, 3), 1 / 3))


def test_aekd_rejects_max_weight_outside_zero_one():
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match='max_weight'):
            AEKD(max_weight=bad)
