"""MMKD against independent computations: the networks' input layouts and
widths, the meta-gradient of the look-ahead against the reference's own
reverse-mode recursion (``MetaSGD.meta_backward`` of Rorozhl/MMKD, written
out below) on a tiny model, and the roll-back of the real student."""
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mtkd_mm.learning import VirtualOptimizer, look_ahead
from mtkd_mm.weightings import MMKD, PoolInfo
from mtkd_mm.weightings.mmkd import WeightNetwork
from tests.conftest import REPO
from tests.test_weightings import NUM_CLASSES, classification_state


def build(num_teachers=3, batch_size=5):
    weighting = MMKD(batch_size=batch_size)
    weighting.setup(PoolInfo(
        names=[f't{k}' for k in range(num_teachers)],
        logit_teachers=list(range(num_teachers)),
        embedding_dims=[6] * num_teachers,
        feature_channels=[[6]] * num_teachers,
        logit_dim=NUM_CLASSES,
        feature_loss_weight=5.0))
    return weighting


def test_network_inputs_are_the_references_layouts():
    """Logits: concat[z_t,1 … z_t,K, z_s] (B, C·(K+1)); features: row i of
    concat[F_1 F_1ᵀ … F_K F_Kᵀ, F_s F_sᵀ] (B, B·(K+1)), F the flattened
    last level, the student's before its connector."""
    state = classification_state(num_teachers=3)
    state.summary_uses_probabilities = False
    weighting = build(3, batch_size=state.num_samples)
    assert weighting.logit_network.layer.in_features == NUM_CLASSES * 4
    assert weighting.feature_network.layer.in_features == 5 * 4
    weights = weighting(state)
    logits = torch.cat([r.logits for r in state.teachers] +
                       [state.student.logits.detach()], dim=1)
    net = weighting.logit_network
    expected = torch.softmax(
        net.all_act(torch.relu(net.layer(logits))), dim=1)
    torch.testing.assert_close(weights.logit, expected)
    grams = []
    for features in [r.features[-1] for r in state.teachers] + [
            state.student.features[-1]]:
        flat = features.reshape(state.num_samples, -1)
        grams.append(flat @ flat.T)
    net = weighting.feature_network
    expected = torch.softmax(
        net.all_act(torch.relu(net.layer(torch.cat(grams, dim=1)))), dim=1)
    torch.testing.assert_close(weights.feature, expected)


def test_other_batch_sizes_get_uniform_feature_weights():
    state = classification_state(num_teachers=2)
    weights = build(2, batch_size=state.num_samples + 1)(state)
    torch.testing.assert_close(weights.feature,
                               torch.full((state.num_samples, 2), 0.5))


class ReferenceMetaSGD(torch.optim.SGD):
    """Rorozhl/MMKD ``helper/meta_optimizer.py`` ``MetaSGD`` with
    ``rollback=True`` (its default), on plain tensors: real SGD steps
    remembered with their objectives, then the meta-gradient by its
    reverse-mode recursion over (parameter, momentum) adjoints."""

    def __init__(self, params, lr, momentum, weight_decay):
        super().__init__(params, lr, momentum=momentum,
                         weight_decay=weight_decay)
        self.prev_states = []

    def get_state(self):
        return copy.deepcopy(([p.detach().clone() for p in self.params()],
                              self.state_dict()))

    def set_state(self, state):
        values, optimizer = state
        with torch.no_grad():
            for p, v in zip(self.params(), values):
                p.copy_(v)
        self.load_state_dict(optimizer)

    def params(self):
        return [p for group in self.param_groups for p in group['params']]

    def step(self, objective, *args):
        self.prev_states.append((self.get_state(), objective, args))
        objective(*args).backward()
        super().step()

    def meta_backward(self):
        alpha = [(p.grad.detach().clone(), torch.zeros_like(p))
                 for p in self.params()]
        group = self.param_groups[0]
        lr, wd, momentum = group['lr'], group['weight_decay'], group[
            'momentum']
        for state, objective, args in reversed(self.prev_states):
            self.set_state(state)
            grads = torch.autograd.grad(objective(*args), self.params(),
                                        create_graph=True)
            x = sum((g * (a0 * -lr + a1)).sum()
                    for g, (a0, a1) in zip(grads, alpha))
            self.zero_grad()
            x.backward()
            for p, a in zip(self.params(), alpha):
                new = (a[0] * (1 - lr * wd) + wd * a[1] + p.grad,
                       a[1] * momentum - lr * momentum * a[0])
                a[0].copy_(new[0])
                a[1].copy_(new[1])
        self.prev_states = []


def assert_same_optimizer_state(state, expected):
    """Bitwise: every tensor of the state, and every hyperparameter."""
    assert state['param_groups'] == expected['param_groups']
    assert state['state'].keys() == expected['state'].keys()
    for index, values in expected['state'].items():
        for key, value in values.items():
            assert torch.equal(torch.as_tensor(state['state'][index][key]),
                               torch.as_tensor(value)), (index, key)


def tiny_problem():
    """A linear student (C × D), two fixed teachers' logits, a weight
    network on [teacher logits, student logits], and a quiz batch."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, 4, generator=gen)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    teachers = [torch.randn(6, 3, generator=gen) * 2 for _ in range(2)]
    student = torch.randn(3, 4, generator=gen) * 0.5
    torch.manual_seed(0)
    network = WeightNetwork(3 * 3, 2).double()
    return x.double(), labels, [t.double() for t in teachers], \
        student.double(), network


def distill_loss(weight, x, teachers, network):
    logits = x @ weight.T
    w = network(torch.cat(teachers + [logits.detach()], dim=1))
    kl = torch.stack([
        (F.softmax(t / 4, 1) * (F.log_softmax(t / 4, 1) -
                                F.log_softmax(logits / 4, 1))).sum(1) * 16
        for t in teachers], dim=1)
    return (w * kl).sum(1).mean()


def own_loss(weight, x, labels):
    return F.cross_entropy(x @ weight.T, labels)


def test_meta_gradient_equals_the_references_recursion():
    """Two virtual distillation steps and one on the CE with SGD (momentum
    0.9, weight decay 5e-4, a momentum buffer from an earlier step), then
    the CE: our unrolled autograd gives the reference's meta-gradient."""
    x, labels, teachers, start, network = tiny_problem()
    lr, momentum, wd = 0.5, 0.9, 5e-4

    def sgd_with_history(weight):
        optimizer = torch.optim.SGD([weight], lr=lr, momentum=momentum,
                                    weight_decay=wd)
        own_loss(weight, x, labels).backward()
        optimizer.step()
        optimizer.zero_grad()
        return optimizer

    weight = nn.Parameter(start.clone())
    reference = ReferenceMetaSGD([weight], lr, momentum, wd)
    own_loss(weight, x, labels).backward()
    super(ReferenceMetaSGD, reference).step()
    reference.zero_grad()
    for _ in range(2):
        reference.zero_grad()
        reference.step(distill_loss, weight, x, teachers, network)
    reference.zero_grad()
    reference.step(own_loss, weight, x, labels)
    reference.zero_grad()
    network.zero_grad()
    own_loss(weight, x, labels).backward()
    reference.meta_backward()
    expected = {n: p.grad.clone() for n, p in network.named_parameters()}

    ours = nn.Parameter(start.clone())
    optimizer = sgd_with_history(ours)
    before = copy.deepcopy(optimizer.state_dict())
    network.zero_grad()
    params = look_ahead(
        [lambda p: distill_loss(p['w'], x, teachers, network)] * 2 +
        [lambda p: own_loss(p['w'], x, labels)],
        {'w': ours.detach().requires_grad_()},
        VirtualOptimizer(optimizer, {ours: 'w'}))
    own_loss(params['w'], x, labels).backward()
    for name, param in network.named_parameters():
        assert param.grad.abs().sum() > 0, name
        torch.testing.assert_close(param.grad, expected[name], rtol=1e-6,
                                   atol=1e-10)
    assert_same_optimizer_state(optimizer.state_dict(), before)


@pytest.mark.parametrize('kind', ['SGD', 'AdamW'])
def test_virtual_step_is_the_real_step(kind):
    """Without graph, a virtual step equals the optimiser's real one."""
    x, labels, _, start, _ = tiny_problem()
    weight = nn.Parameter(start.clone())
    optimizer = (torch.optim.SGD([weight], lr=0.3, momentum=0.9,
                                 weight_decay=1e-3, nesterov=True)
                 if kind == 'SGD' else
                 torch.optim.AdamW([weight], lr=0.01, weight_decay=0.1))
    for _ in range(2):
        optimizer.zero_grad()
        own_loss(weight, x, labels).backward()
        optimizer.step()
    virtual = VirtualOptimizer(optimizer, {weight: 'w'})
    params = {'w': weight.detach().clone().requires_grad_()}
    grad = torch.autograd.grad(own_loss(params['w'], x, labels),
                               params['w'])[0]
    stepped = virtual.step(params, {'w': grad})['w']
    optimizer.zero_grad()
    own_loss(weight, x, labels).backward()
    optimizer.step()
    torch.testing.assert_close(stepped.detach(), weight.detach(),
                               rtol=1e-12, atol=1e-12)


def rolled_back_setup():
    """The shapes classification distiller with MMKD (batch 4) after one
    real SGD step, its optimiser and a preprocessed batch."""
    from mmpretrain.structures import DataSample

    from tests.test_distill.helpers import CLS_DISTILL, build_model, load_cfg
    cfg = load_cfg(CLS_DISTILL, **{'model.teachers.0.checkpoint': None,
                                   'model.teachers.1.checkpoint': None})
    cfg.model.weighting = dict(type='MMKD', batch_size=4)
    torch.manual_seed(0)
    model = build_model(cfg).train()
    gen = torch.Generator().manual_seed(0)
    batch = dict(
        inputs=[torch.randint(0, 256, (3, 64, 64), generator=gen,
                              dtype=torch.uint8) for _ in range(4)],
        data_samples=[DataSample().set_gt_label(i) for i in range(4)])
    data = model.data_preprocessor(batch, True)
    optimizer = torch.optim.SGD(
        [p for n, p in model.named_parameters()
         if n.startswith(('student.', 'connectors.'))],
        lr=0.1, momentum=0.9, weight_decay=5e-4)
    total, _ = model.parse_losses(model(**data, mode='loss'))
    total.backward()
    optimizer.step()
    optimizer.zero_grad()
    return model, optimizer, data


def test_meta_step_rolls_back_the_real_student():
    """On the shapes classification distiller: a meta step trains both
    networks and leaves the student's and connectors' parameters, their
    BatchNorm statistics and the student optimiser's state bitwise as they
    were."""
    model, optimizer, data = rolled_back_setup()
    state = copy.deepcopy(model.state_dict())
    optimizer_state = copy.deepcopy(optimizer.state_dict())
    meta = model.look_ahead_loss(data['inputs'], data['data_samples'],
                                 optimizer, model.weighting.virtual_steps,
                                 last_batch=True)
    meta.backward()
    assert model.weighting.logit_network.layer.weight.grad.abs().sum() > 0
    assert model.weighting.feature_network.layer.weight.grad is not None
    for name, value in model.state_dict().items():
        assert torch.equal(value, state[name]), name
    assert_same_optimizer_state(optimizer.state_dict(), optimizer_state)
    assert all(p.grad is None for n, p in model.named_parameters()
               if n.startswith(('student.', 'connectors.', 'teachers.')))


def test_teachers_run_once_per_meta_step(monkeypatch):
    """Two virtual steps share the teachers' records: one forward of each
    teacher per meta step, and the meta-gradient is the one of a look-ahead
    that runs the teachers for every step."""
    from contextlib import nullcontext

    model, optimizer, data = rolled_back_setup()
    calls = []
    for name, teacher in model.teachers.items():
        teacher.backbone.register_forward_hook(
            lambda *_, name=name: calls.append(name))

    def meta_gradients():
        for p in model.weighting.parameters():
            p.grad = None
        model.look_ahead_loss(
            data['inputs'], data['data_samples'], optimizer,
            model.weighting.virtual_steps, last_batch=True).backward()
        return [p.grad.clone() for p in model.weighting.parameters()]

    shared = meta_gradients()
    assert sorted(calls) == sorted(model.teacher_names)
    calls.clear()
    monkeypatch.setattr(type(model), 'teachers_run_once',
                        lambda self: nullcontext())
    rerun = meta_gradients()
    assert sorted(calls) == sorted(model.teacher_names * 2)
    for a, b in zip(shared, rerun):
        assert torch.equal(a, b)


def test_two_stage_look_ahead_trains_the_same_rois():
    """Faster R-CNN: every loss of a meta step on the batch of the last
    real step (two virtual steps, the step on the student's loss, the
    meta-loss) trains that step's RoIs, the meta-gradient goes through the
    student's RoIAlign, and the student is rolled back with its mmcv
    RoIAlign and samplers restored."""
    from tests.test_distill.helpers import build_model, load_cfg
    from tests.test_distill.test_one_stage_view import batch
    cfg = load_cfg(
        REPO / 'configs/baselines/aver/faster-rcnn_r18_fpn_narrow_shapes.py',
        **{'model.teachers.0.checkpoint': None,
           'model.teachers.1.checkpoint': None})
    cfg.model.weighting = dict(type='MMKD', batch_size=2)
    torch.manual_seed(0)
    model = build_model(cfg).train()
    data = batch(model)
    optimizer = torch.optim.SGD(
        [p for n, p in model.named_parameters()
         if n.startswith(('student.', 'connectors.'))],
        lr=0.01, momentum=0.9, weight_decay=5e-4)
    state = copy.deepcopy(model.state_dict())
    bbox_head = model.student.roi_head.bbox_head
    trained = []

    def loss_and_target(**kwargs):
        trained.append(kwargs['rois'])
        return type(bbox_head).loss_and_target(bbox_head, **kwargs)

    bbox_head.loss_and_target = loss_and_target
    model.view.keep_draws_for_look_ahead()  # as MMKD.attach does
    with torch.no_grad():
        model(**data, mode='loss')  # the real step's RoIs
    state = copy.deepcopy(model.state_dict())
    meta = model.look_ahead_loss(data['inputs'], data['data_samples'],
                                 optimizer, model.weighting.virtual_steps,
                                 last_batch=True)
    meta.backward()
    assert len(trained) == 5
    for rois in trained[1:]:
        assert torch.equal(rois, trained[0])
    assert model.weighting.logit_network.layer.weight.grad.abs().sum() > 0
    # reached, though zero here: the unnormalised Gram rows of random
    # teachers saturate the feature network's softmax
    assert model.weighting.feature_network.layer.weight.grad is not None
    for name, value in model.state_dict().items():
        assert torch.equal(value, state[name]), name
    roi_head = model.student.roi_head
    assert all(type(layer).__name__ == 'RoIAlign'
               for layer in roi_head.bbox_roi_extractor.roi_layers)
    for sampler in (roi_head.bbox_sampler, model.student.rpn_head.sampler):
        assert 'sample' not in vars(sampler)
    with torch.no_grad():
        model(**data, mode='loss')
    assert not torch.equal(trained[-1], trained[0]), 'RoIs are drawn anew'
