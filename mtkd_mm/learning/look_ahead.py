"""Differentiable virtual steps of the student's optimiser, for learners
that learn through a look-ahead of the student (MMKD)."""
from typing import Callable, NamedTuple

import torch


class StudentLookAhead(NamedTuple):
    """The look-ahead of the student that the distiller offers its
    learners (``LearnerUpdateHook`` hands it to ``Learner.attach``).

    Attributes:
        loss (callable): ``(data_batch, virtual_steps, last_batch)`` → the
            student's own loss (scalar) on the raw batch after
            ``virtual_steps`` virtual distillation steps and one on that
            loss; its graph reaches the weighting's parameters, the real
            student is untouched.
        why_not (callable): ``()`` → why the student cannot be looked
            ahead with its optimiser, or None.
        keep_draws (callable): ``()`` → from the next real step on, keep
            each step's random draws for a look-ahead on its batch
            (``last_batch=True``).
    """
    loss: Callable
    why_not: Callable
    keep_draws: Callable


class VirtualOptimizer:
    """One step of ``optimizer``, written as a function of the parameters
    and gradients so that autograd can go through it, starting from the
    optimiser's current state, which it never changes.

    SGD (momentum, dampening, Nesterov, weight decay; the MMKD reference's
    ``MetaSGD``) and, ours, Adam and AdamW (bias-corrected moments, no
    amsgrad). Each parameter keeps its group's hyperparameters (the current,
    scheduled ``lr``). With Nesterov the meta-gradient is exact (central
    differences agree); the reference's backward recursion has no Nesterov
    term (Rorozhl/MMKD ``helper/meta_optimizer.py:85-93``), though its
    README trains with ``--nesterov``.

    Args:
        optimizer (torch.optim.Optimizer): the student's optimiser.
        names (dict): parameter tensor → name, for the parameters to step.
    """

    def __init__(self, optimizer, names):
        kind = type(optimizer).__name__
        if kind not in ('SGD', 'Adam', 'AdamW'):
            raise ValueError(f'a look-ahead models SGD, Adam and AdamW '
                             f'students, not {kind}')
        self.kind = kind
        self.groups, self.state = {}, {}
        for group in optimizer.param_groups:
            if group.get('amsgrad') or group.get('maximize'):
                raise ValueError('a look-ahead does not model amsgrad or '
                                 'maximize')
            for param in group['params']:
                if param in names:
                    self.groups[names[param]] = group
                    self.state[names[param]] = {
                        k: v.detach().clone() if torch.is_tensor(v) else v
                        for k, v in optimizer.state.get(param, {}).items()
                    }

    def step(self, params, grads):
        """New parameters from ``params`` and their ``grads`` (dicts by
        name); the virtual state moves on, the real one does not."""
        stepped = {}
        for name, param in params.items():
            grad = grads[name]
            if grad is None or name not in self.groups:
                stepped[name] = param
                continue
            stepped[name] = getattr(self, f'_{self.kind.lower()}')(
                param, grad, self.groups[name], self.state[name])
        return stepped

    @staticmethod
    def _sgd(param, grad, group, state):
        lr, momentum = group['lr'], group['momentum']
        grad = grad + group['weight_decay'] * param
        if momentum:
            buffer = state.get('momentum_buffer')
            buffer = grad if buffer is None else (
                momentum * buffer + (1 - group['dampening']) * grad)
            state['momentum_buffer'] = buffer
            grad = grad + momentum * buffer if group['nesterov'] else buffer
        return param - lr * grad

    @staticmethod
    def _adam(param, grad, group, state, decoupled=False):
        lr, (beta1, beta2) = group['lr'], group['betas']
        if group.get('decoupled_weight_decay', decoupled):
            param = param * (1 - lr * group['weight_decay'])
        else:
            grad = grad + group['weight_decay'] * param
        step = float(state.get('step', 0)) + 1
        first = state.get('exp_avg', torch.zeros_like(param))
        second = state.get('exp_avg_sq', torch.zeros_like(param))
        first = beta1 * first + (1 - beta1) * grad
        second = beta2 * second + (1 - beta2) * grad * grad
        state.update(step=step, exp_avg=first, exp_avg_sq=second)
        corrected = second / (1 - beta2**step)
        # clamped: sqrt has no finite gradient at 0 (parameters without
        # gradient so far)
        denominator = corrected.clamp(min=1e-30).sqrt() + group['eps']
        return param - lr * first / (1 - beta1**step) / denominator

    def _adamw(self, param, grad, group, state):
        return self._adam(param, grad, group, state, decoupled=True)


def look_ahead(losses, params, optimizer):
    """Virtual steps of the student, one per loss, differentiable end to end
    (gradients with ``create_graph``).

    Args:
        losses (list[callable]): per step, parameters (dict by name) →
            scalar loss.
        params (dict): name → tensor, the start; those that require grad
            are stepped.
        optimizer (VirtualOptimizer): the step.

    Returns:
        dict: the parameters after the steps, with their graph.
    """
    for loss in losses:
        names = [n for n, p in params.items() if p.requires_grad]
        grads = torch.autograd.grad(
            loss(params), [params[n] for n in names], create_graph=True,
            allow_unused=True)
        params = optimizer.step(params, dict(zip(names, grads)))
    return params
