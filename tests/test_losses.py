"""Per-point / per-sample distillation losses against independent formulas."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mtkd_mm.losses import PKD, ChannelWiseDivergence, FeatureMSE, KLDivergence


def np_softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def reference_kl(student, teacher, temperature):
    """T_i² · Σ_c p_t log(p_t / p_s) for each row, in float64 numpy."""
    s = student.detach().double().numpy()
    t = teacher.detach().double().numpy()
    temps = np.broadcast_to(
        np.asarray(temperature, dtype=np.float64), (s.shape[0], ))
    out = np.empty(s.shape[0])
    for i in range(s.shape[0]):
        p_s = np_softmax(s[i] / temps[i])
        p_t = np_softmax(t[i] / temps[i])
        out[i] = temps[i]**2 * np.sum(p_t * (np.log(p_t) - np.log(p_s)))
    return torch.from_numpy(out)


@pytest.fixture
def logits():
    gen = torch.Generator().manual_seed(0)
    student = torch.randn(7, 5, generator=gen) * 3
    teacher = torch.randn(7, 5, generator=gen) * 3
    return student, teacher


# ---------------------------------------------------------------- KL


@pytest.mark.parametrize('temperature', [1.0, 4.0])
def test_kl_matches_numpy_per_point(logits, temperature):
    student, teacher = logits
    kl = KLDivergence()(student, teacher, temperature)
    assert kl.shape == (7, )
    torch.testing.assert_close(
        kl.double(), reference_kl(student, teacher, temperature),
        rtol=1e-5, atol=1e-6)


def test_kl_matches_torch_kl_div_per_row(logits):
    student, teacher = logits
    temperature = 2.5
    kl = KLDivergence()(student, teacher, temperature)
    for i in range(student.shape[0]):
        expected = F.kl_div(
            F.log_softmax(student[i] / temperature, dim=0),
            F.softmax(teacher[i] / temperature, dim=0),
            reduction='sum') * temperature**2
        torch.testing.assert_close(kl[i], expected, rtol=1e-5, atol=1e-6)


def test_kl_is_not_symmetric_direction_is_teacher_to_student(logits):
    """KL(p_t ‖ p_s), not KL(p_s ‖ p_t)."""
    student, teacher = logits
    kl = KLDivergence()(student, teacher, 1.0)
    swapped = reference_kl(teacher, student, 1.0)
    assert not torch.allclose(kl.double(), swapped, atol=1e-3)


def test_kl_zero_for_identical_logits_and_nonnegative(logits):
    student, teacher = logits
    loss = KLDivergence()
    torch.testing.assert_close(
        loss(student, student.clone(), 4.0), torch.zeros(7),
        atol=1e-6, rtol=0)
    assert (loss(student, teacher, 4.0) >= -1e-7).all()
    assert (loss(student, teacher, 4.0) > 0).all()


def test_kl_invariant_to_per_row_logit_shift(logits):
    student, teacher = logits
    shift = torch.arange(7.0).reshape(-1, 1) * 10
    loss = KLDivergence()
    torch.testing.assert_close(
        loss(student + shift, teacher - shift, 3.0),
        loss(student, teacher, 3.0), rtol=1e-4, atol=1e-5)


def test_kl_per_point_temperature_equal_to_scalar(logits):
    student, teacher = logits
    loss = KLDivergence()
    per_point = loss(student, teacher, torch.full((7, ), 4.0))
    assert per_point.shape == (7, )
    torch.testing.assert_close(per_point, loss(student, teacher, 4.0))
    # A 0-dim tensor is a scalar temperature too.
    torch.testing.assert_close(
        loss(student, teacher, torch.tensor(4.0)), loss(student, teacher, 4.0))


def test_kl_per_point_temperature_applies_row_by_row(logits):
    student, teacher = logits
    temps = torch.tensor([1.0, 2.0, 3.0, 4.0, 0.5, 8.0, 1.5])
    kl = KLDivergence()(student, teacher, temps)
    assert kl.shape == (7, )
    torch.testing.assert_close(
        kl.double(), reference_kl(student, teacher, temps.numpy()),
        rtol=1e-5, atol=1e-6)
    for i in range(7):
        row = KLDivergence()(student[i:i + 1], teacher[i:i + 1],
                             float(temps[i]))
        torch.testing.assert_close(kl[i:i + 1], row)


def test_kl_gradient_flows_to_student_only(logits):
    student, teacher = logits
    student = student.clone().requires_grad_(True)
    teacher = teacher.clone()
    temps = torch.tensor([1.0, 2.0, 3.0, 4.0, 0.5, 8.0, 1.5])
    KLDivergence()(student, teacher, temps).sum().backward()
    assert teacher.grad is None
    assert student.grad is not None
    # d/dz_s of T²·KL(σ(z_t/T) ‖ σ(z_s/T)) = T · (σ(z_s/T) − σ(z_t/T)).
    col = temps.reshape(-1, 1)
    expected = col * (F.softmax(student.detach() / col, dim=1) -
                      F.softmax(teacher / col, dim=1))
    torch.testing.assert_close(student.grad, expected, rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------- features


@pytest.fixture
def features():
    gen = torch.Generator().manual_seed(1)
    student = torch.randn(3, 4, 5, 6, generator=gen)
    teacher = torch.randn(3, 4, 5, 6, generator=gen) * 2 + 1
    return student, teacher


def test_feature_mse_per_sample(features):
    student, teacher = features
    loss = FeatureMSE()(student, teacher)
    assert loss.shape == (3, )
    s, t = student.numpy(), teacher.numpy()
    expected = [np.mean((s[b] - t[b])**2) for b in range(3)]
    torch.testing.assert_close(loss, torch.tensor(expected, dtype=loss.dtype))
    torch.testing.assert_close(loss.mean(), F.mse_loss(student, teacher))
    torch.testing.assert_close(
        FeatureMSE()(student, student.clone()), torch.zeros(3))


def test_feature_mse_gradient_flows_to_student_only(features):
    student, teacher = features
    student = student.clone().requires_grad_(True)
    FeatureMSE()(student, teacher).sum().backward()
    assert teacher.grad is None
    n = 4 * 5 * 6
    torch.testing.assert_close(student.grad,
                               2 * (student.detach() - teacher) / n)


def reference_pkd_norm(feat):
    """The mmrazor PKD ``norm``: channels over (N, H, W), unbiased std."""
    n, c, h, w = feat.shape
    flat = feat.permute(1, 0, 2, 3).reshape(c, -1)
    mean = flat.mean(dim=-1, keepdim=True)
    std = flat.std(dim=-1, keepdim=True)
    flat = (flat - mean) / (std + 1e-6)
    return flat.reshape(c, n, h, w).permute(1, 0, 2, 3)


def test_pkd_matches_reference_batch_loss(features):
    student, teacher = features
    loss = PKD()(student, teacher)
    assert loss.shape == (3, )
    norm_s, norm_t = reference_pkd_norm(student), reference_pkd_norm(teacher)
    # The reference batch loss is the mean of the per-sample losses.
    torch.testing.assert_close(loss.mean(),
                               F.mse_loss(norm_s, norm_t) / 2)
    for b in range(3):
        torch.testing.assert_close(
            loss[b], ((norm_s[b] - norm_t[b])**2).mean() / 2)


def test_pkd_invariant_to_per_channel_affine_of_student(features):
    student, teacher = features
    scale = torch.tensor([0.5, 2.0, 3.0, 10.0]).reshape(1, 4, 1, 1)
    shift = torch.tensor([-1.0, 0.0, 5.0, 2.0]).reshape(1, 4, 1, 1)
    torch.testing.assert_close(
        PKD()(student * scale + shift, teacher), PKD()(student, teacher),
        rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(
        PKD()(teacher * 3 - 2, teacher), torch.zeros(3), rtol=0, atol=1e-5)


def test_pkd_gradient_flows_to_student_only(features):
    student, teacher = features
    student = student.clone().requires_grad_(True)
    PKD()(student, teacher).sum().backward()
    assert teacher.grad is None
    assert student.grad is not None and student.grad.abs().sum() > 0


def reference_cwd(student, teacher, tau):
    """τ² · mean_c KL(softmax_hw(t_c/τ) ‖ softmax_hw(s_c/τ)), by loops."""
    b_, c_ = student.shape[:2]
    out = torch.zeros(b_)
    for b in range(b_):
        for c in range(c_):
            out[b] += F.kl_div(
                F.log_softmax(student[b, c].flatten() / tau, dim=0),
                F.softmax(teacher[b, c].flatten() / tau, dim=0),
                reduction='sum')
    return out / c_ * tau**2


@pytest.mark.parametrize('tau', [1.0, 4.0])
def test_cwd_matches_loops(features, tau):
    student, teacher = features
    loss = ChannelWiseDivergence(tau=tau)(student, teacher)
    assert loss.shape == (3, )
    torch.testing.assert_close(loss, reference_cwd(student, teacher, tau),
                               rtol=1e-5, atol=1e-6)


def test_cwd_zero_for_identical_and_shift_invariant(features):
    student, teacher = features
    cwd = ChannelWiseDivergence(tau=2.0)
    torch.testing.assert_close(cwd(student, student.clone()), torch.zeros(3),
                               rtol=0, atol=1e-6)
    assert (cwd(student, teacher) > 0).all()
    # A constant per (sample, channel) does not change a spatial softmax.
    shift = torch.randn(3, 4, 1, 1, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(cwd(student + shift, teacher),
                               cwd(student, teacher), rtol=1e-4, atol=1e-5)


def test_cwd_gradient_flows_to_student_only(features):
    student, teacher = features
    student = student.clone().requires_grad_(True)
    ChannelWiseDivergence(tau=2.0)(student, teacher).sum().backward()
    assert teacher.grad is None
    assert student.grad is not None and student.grad.abs().sum() > 0
