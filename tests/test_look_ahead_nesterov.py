"""With Nesterov momentum the look-ahead's meta-gradient is exact: it
equals central differences of the student's loss after real SGD steps."""
import pytest
import torch

from mtkd_mm.learning import VirtualOptimizer, look_ahead


def test_nesterov_meta_gradient_equals_central_differences():
    torch.manual_seed(0)
    a, b = torch.randn(6, 4, dtype=torch.float64), torch.randn(
        6, dtype=torch.float64)
    c, d = torch.randn(5, 4, dtype=torch.float64), torch.randn(
        5, dtype=torch.float64)
    start = torch.randn(4, dtype=torch.float64)

    def distill(w, scale):  # a loss weighted by the learnt scale
        return scale * ((a @ w - b)**2).mean()

    def own(w):
        return ((c @ w - d)**2).mean()

    def optimizer_for(weight):
        """SGD with Nesterov and weight decay, one real step taken."""
        optimizer = torch.optim.SGD([weight], lr=0.1, momentum=0.9,
                                    nesterov=True, weight_decay=1e-3)
        own(weight).backward()
        optimizer.step()
        optimizer.zero_grad()
        return optimizer

    def own_after_real_steps(scale):
        weight = torch.nn.Parameter(start.clone())
        optimizer = optimizer_for(weight)
        for loss in (lambda: distill(weight, scale), lambda: distill(
                weight, scale), lambda: own(weight)):
            optimizer.zero_grad()
            loss().backward()
            optimizer.step()
        return own(weight).item()

    scale = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    weight = torch.nn.Parameter(start.clone())
    optimizer = optimizer_for(weight)
    params = look_ahead(
        [lambda p: distill(p['w'], scale)] * 2 + [lambda p: own(p['w'])],
        {'w': weight.detach().requires_grad_()},
        VirtualOptimizer(optimizer, {weight: 'w'}))
    meta_gradient, = torch.autograd.grad(own(params['w']), scale)

    h = 1e-5
    central = (own_after_real_steps(0.7 + h) -
               own_after_real_steps(0.7 - h)) / (2 * h)
    assert abs(meta_gradient.item() - central) < 1e-8 * max(1, abs(central))
    assert own(params['w']).item() == pytest.approx(
        own_after_real_steps(0.7), rel=1e-12), 'virtual steps are real ones'
