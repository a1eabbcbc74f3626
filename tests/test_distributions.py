"""The views' point distributions against independent float64 formulas:
softmax over classes, and a sigmoid per class (dense one-stage heads)."""
import math

import numpy as np
import pytest
import torch

from mtkd_mm.losses import KLDivergence
from mtkd_mm.structures import SIGMOID, SOFTMAX, Points


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def reference_binary_kl(student, teacher, temperature):
    """T² · Σ_c [q log(q/p) + (1−q) log((1−q)/(1−p))], p = σ(z_s/T),
    q = σ(z_t/T), per row, in float64 numpy."""
    p = np_sigmoid(student.double().numpy() / temperature)
    q = np_sigmoid(teacher.double().numpy() / temperature)
    terms = q * np.log(q / p) + (1 - q) * np.log((1 - q) / (1 - p))
    return torch.from_numpy(temperature**2 * terms.sum(axis=1))


@pytest.fixture
def logits():
    gen = torch.Generator().manual_seed(0)
    return (torch.randn(6, 4, generator=gen) * 3,
            torch.randn(6, 4, generator=gen) * 3)


@pytest.mark.parametrize('temperature', [1.0, 2.0])
def test_sigmoid_kl_matches_the_binary_formula(logits, temperature):
    student, teacher = logits
    kl = KLDivergence()(student, teacher, temperature, SIGMOID)
    assert kl.shape == (6, )
    torch.testing.assert_close(
        kl.double(), reference_binary_kl(student, teacher, temperature),
        rtol=1e-5, atol=1e-6)
    assert not torch.allclose(kl, KLDivergence()(student, teacher,
                                                 temperature))


def test_sigmoid_kl_stable_for_large_logits_and_zero_when_equal():
    student = torch.tensor([[40.0, -40.0, 0.0]])
    assert torch.isfinite(
        KLDivergence()(student, -student, 1.0, SIGMOID)).all()
    torch.testing.assert_close(
        KLDivergence()(student, student.clone(), 3.0, SIGMOID),
        torch.zeros(1))


def test_sigmoid_kl_gradient_is_the_probability_gap(logits):
    """d KL / d z_s = (σ(z_s/T) − σ(z_t/T)) · T for T²-scaled binary KL."""
    student, teacher = logits
    student = student.clone().requires_grad_(True)
    KLDivergence()(student, teacher, 2.0, SIGMOID).sum().backward()
    expected = ((student / 2).sigmoid() - (teacher / 2).sigmoid()) * 2
    torch.testing.assert_close(student.grad, expected.detach())


def test_sigmoid_cross_entropy_background_is_all_negative():
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.3, 0.1, -2.0]])
    labels = torch.tensor([1, 3])  # class 1; background (C = 3)

    def bce(z, y):
        return -(y * math.log(np_sigmoid(z)) +
                 (1 - y) * math.log(1 - np_sigmoid(z)))

    expected = torch.tensor([
        bce(2.0, 0) + bce(-1.0, 1) + bce(0.5, 0),
        bce(0.3, 0) + bce(0.1, 0) + bce(-2.0, 0)])
    torch.testing.assert_close(SIGMOID.cross_entropy(logits, labels),
                               expected)


def test_sigmoid_entropy_and_probabilities(logits):
    _, teacher = logits
    q = np_sigmoid(teacher.double().numpy())
    expected = -(q * np.log(q) + (1 - q) * np.log(1 - q)).sum(axis=1)
    torch.testing.assert_close(SIGMOID.entropy(teacher),
                               torch.from_numpy(expected))
    torch.testing.assert_close(SIGMOID.probabilities(teacher),
                               teacher.sigmoid())


def test_points_use_their_distribution_for_ce(logits):
    student, _ = logits
    labels = torch.tensor([0, 4, 2, 1, 4, 3])
    index = torch.tensor([0, 0, 1, 1, 2, 2])
    sigmoid_points = Points(index, labels, 3, distribution=SIGMOID)
    per_point = SIGMOID.cross_entropy(student, labels)
    torch.testing.assert_close(
        sigmoid_points.cross_entropy(student),
        per_point.reshape(3, 2).mean(dim=1))
    softmax_points = Points(index, labels.clamp(max=3), 3)
    assert softmax_points.distribution is SOFTMAX
    torch.testing.assert_close(
        softmax_points.cross_entropy(student),
        torch.nn.functional.cross_entropy(
            student, labels.clamp(max=3), reduction='none').reshape(
                3, 2).mean(dim=1))


def test_predictions():
    """Softmax: the arg-max class. Sigmoid: the most probable class where
    its probability reaches 0.5, else background (C)."""
    logits = torch.tensor([[2.0, -1.0, 0.5], [-0.3, -0.1, -2.0],
                           [-1.0, 0.2, 0.1]])
    assert SOFTMAX.predictions(logits).tolist() == [0, 1, 1]
    assert SIGMOID.predictions(logits).tolist() == [0, 3, 1]
