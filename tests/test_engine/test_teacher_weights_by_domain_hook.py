"""TeacherWeightsByDomainHook: per-domain means of the per-sample weights,
the agent's own actions kept apart from the fused weights."""
import json
import logging
from types import SimpleNamespace

import pytest
import torch

from mtkd_mm.engine import TeacherWeightsByDomainHook
from mtkd_mm.weightings import TeacherWeights


def batch(domains):
    return {'data_samples': [
        SimpleNamespace(img_path=f'data/shapes_{d}/images/train/{i:04d}.png')
        for i, d in enumerate(domains)]}


def feed(hook, runner, weights, domains):
    hook._keep(None, None, weights)
    hook.after_train_iter(runner, 0, batch(domains))


class Visualizer:
    """Keeps what the hook logs: [(step, {key: value})]."""

    def __init__(self):
        self.logged = []

    def add_scalars(self, scalars, step):
        self.logged.append((step, scalars))


@pytest.fixture
def runner(tmp_path):
    return SimpleNamespace(work_dir=str(tmp_path), iter=0,
                           logger=logging.getLogger('test'),
                           visualizer=Visualizer())


def test_means_per_domain_and_agent_actions(runner, tmp_path):
    hook = TeacherWeightsByDomainHook(start_iter=1)
    hook.names = hook.logit_names = ['a', 'b']
    logit = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])
    agent = torch.tensor([[0.6, 0.4], [0.5, 0.5], [0.4, 0.6]])
    ignored = TeacherWeights(torch.zeros(3, 2), torch.zeros(3, 2))
    feed(hook, runner, ignored, ['clean', 'dark', 'clean'])  # before start
    runner.iter = 1
    feed(hook, runner,
         TeacherWeights(logit, 1 - logit,
                        dict(agent_logit=agent, agent_feature=agent)),
         ['clean', 'dark', 'clean'])
    feed(hook, runner, TeacherWeights(logit[:1], 1 - logit[:1]), ['dark'])
    hook.after_train(runner)

    result = json.loads((tmp_path / hook.out_file).read_text())
    clean, dark = result['shapes_clean'], result['shapes_dark']
    assert clean['samples'] == 2 and dark['samples'] == 2
    assert clean['logit'] == pytest.approx({'a': 0.8, 'b': 0.2})
    assert clean['feature'] == pytest.approx({'a': 0.2, 'b': 0.8})
    assert dark['logit'] == pytest.approx({'a': 0.55, 'b': 0.45})
    # the agent's actions are averaged over the samples that had them only
    assert clean['agent_logit'] == pytest.approx({'a': 0.5, 'b': 0.5})
    assert dark['agent_feature'] == pytest.approx({'a': 0.5, 'b': 0.5})


def test_a_weighting_without_agent_writes_no_agent_entry(runner, tmp_path):
    hook = TeacherWeightsByDomainHook()
    hook.names = hook.logit_names = ['a', 'b']
    feed(hook, runner, TeacherWeights(torch.full((1, 2), 0.5),
                                      torch.full((1, 2), 0.5)), ['clean'])
    hook.after_train(runner)
    result = json.loads((tmp_path / hook.out_file).read_text())
    assert set(result['shapes_clean']) == {'samples', 'logit', 'feature'}


def test_weights_of_another_length_than_the_batch_are_an_error(runner):
    hook = TeacherWeightsByDomainHook()
    hook.names = hook.logit_names = ['a', 'b']
    with pytest.raises(ValueError, match='3 rows for a batch of 2 images'):
        feed(hook, runner, TeacherWeights(torch.full((3, 2), 0.5),
                                          torch.full((3, 2), 0.5)),
             ['clean', 'dark'])


def test_domain_means_go_to_the_visualizer_every_interval(runner):
    hook = TeacherWeightsByDomainHook(start_iter=100, interval=2)
    hook.names = hook.logit_names = ['a', 'b']
    logit = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])
    feed(hook, runner, TeacherWeights(logit, logit),
         ['clean', 'dark', 'clean'])
    assert runner.visualizer.logged == []
    runner.iter = 1
    feed(hook, runner, TeacherWeights(logit[1:], logit[1:]),
         ['dark', 'dark'])
    runner.iter = 2
    feed(hook, runner, TeacherWeights(logit[:1], logit[:1]), ['dark'])
    runner.iter = 3
    feed(hook, runner, TeacherWeights(logit[:1], logit[:1]), ['clean'])

    # from iteration 0 on, whatever start_iter; a window's images only
    (step, first), (step2, second) = runner.visualizer.logged
    assert (step, step2) == (2, 4)
    assert first == pytest.approx({
        'domain_weight/shapes_clean/a': 0.8,
        'domain_weight/shapes_clean/b': 0.2,
        'domain_weight/shapes_dark/a': (0.2 + 0.2 + 0.7) / 3,
        'domain_weight/shapes_dark/b': (0.8 + 0.8 + 0.3) / 3})
    assert second == pytest.approx({
        'domain_weight/shapes_clean/a': 0.9,
        'domain_weight/shapes_clean/b': 0.1,
        'domain_weight/shapes_dark/a': 0.9,
        'domain_weight/shapes_dark/b': 0.1})


def test_a_declared_quantity_is_averaged_per_domain_beside_the_weights(
        runner, tmp_path):
    """The hook reads ``teacher_accuracy`` under its own declaration, from
    a state whose weighting (AVER) declares nothing: the weighting itself
    still cannot read it."""
    from tests.test_weightings import DET_INDEX, DET_LABELS, detection_state
    state = detection_state()
    state.reads, state.reader = frozenset(), 'AVER'
    hook = TeacherWeightsByDomainHook(quantities=('teacher_accuracy', ))
    hook.names = hook.logit_names = ['a', 'b', 'c']
    weights = TeacherWeights(torch.full((3, 3), 1 / 3),
                             torch.full((3, 3), 1 / 3))
    hook._keep(None, (state, ), weights)
    hook.after_train_iter(runner, 0, batch(['clean', 'dark', 'dark']))
    hook.after_train(runner)
    with pytest.raises(AttributeError, match='AVER reads'):
        state.teacher_accuracy

    # each image's share of its labelled RoIs a teacher gets right
    right = torch.stack([
        torch.tensor([
            (logits[(DET_INDEX == i) & (DET_LABELS != 255)].argmax(1) ==
             DET_LABELS[(DET_INDEX == i) & (DET_LABELS != 255)]
             ).float().mean() for i in range(3)])
        for logits in (r.logits for r in state.teachers)], dim=1)
    result = json.loads((tmp_path / hook.out_file).read_text())
    assert result['shapes_clean']['teacher_accuracy'] == pytest.approx(
        dict(zip('abc', right[0].tolist())))
    assert result['shapes_dark']['teacher_accuracy'] == pytest.approx(
        dict(zip('abc', right[1:].mean(0).tolist())))


def test_an_unknown_quantity_is_refused_when_the_hook_is_built():
    with pytest.raises(ValueError, match=r"quantities: no state quantity "
                       r"\['accuracy'\]"):
        TeacherWeightsByDomainHook(quantities=('accuracy', ))
