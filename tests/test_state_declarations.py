"""Each weighting reads exactly the state quantities it declares; the state
refuses the others, and the distiller checks declarations at build time."""
import pytest
import torch

from mtkd_mm.errors import BuildError
from mtkd_mm.registry import WEIGHTINGS
from mtkd_mm.structures import TeacherState
from mtkd_mm.weightings import (AEKD, AVER, CAMKD, EBKD, TeacherWeighting,
                                TeacherWeights)
from tests.test_distill.helpers import (CLS_DISTILL, build_model,
                                        with_teacher_checkpoints)
from tests.test_look_ahead_trust import build as build_trust
# after_warmup (autouse): the MTKD-RL agent acts, as after its warm-up
from tests.test_mtkd_rl import after_warmup, build  # noqa: F401
from tests.test_weightings import classification_state

WEIGHTINGS_UNDER_TEST = [
    AVER, EBKD, lambda: EBKD(normalize=True), CAMKD,
    lambda: CAMKD(feature_form='uniform'), AEKD,
    lambda: build(3), lambda: build(3, fusion='dynamic'),
    lambda: build(3, policy='reinforce'), build_trust,
    lambda: build_trust(policy='reinforce', reward='reference',
                        credit_neighbourhood=0),
    lambda: build_trust(policy_input='embeddings'),
    lambda: build_trust(policy_input='both', policy='surrogate',
                        reward='reference', credit_neighbourhood=0)
]


def strict_state(weighting):
    """A classification state that gives only what ``weighting`` declares,
    connected_ce and cosine given as values."""
    state = classification_state(num_teachers=3)
    state.summary_uses_probabilities = False
    gen = torch.Generator().manual_seed(0)
    state.provide('cosine', torch.rand(5, 3, generator=gen))
    state.provide('connected_ce', torch.rand(5, 3, generator=gen))
    state.reads = frozenset(weighting.reads)
    state.reader = type(weighting).__name__
    return state


@pytest.mark.parametrize('make', WEIGHTINGS_UNDER_TEST)
def test_reads_exactly_what_it_declares(make):
    weighting = make()
    state = strict_state(weighting)
    weighting(state)
    assert state.was_read == set(weighting.reads)
    assert set(weighting.reads) <= set(TeacherState.QUANTITIES)


def test_an_undeclared_read_is_refused():
    state = strict_state(AVER())
    with pytest.raises(AttributeError, match=r"AVER reads state.kl but does "
                       r'not declare it in its reads \(\)'):
        state.kl


class ReadsUnknown(TeacherWeighting):
    reads = ('kl', 'teacher_mood')

    def forward(self, state):
        return TeacherWeights(state.kl, state.uniform(state.num_teachers))


@pytest.fixture
def reads_unknown():
    WEIGHTINGS.register_module(module=ReadsUnknown)
    yield
    WEIGHTINGS._module_dict.pop('ReadsUnknown')


def test_unknown_quantity_is_a_build_error(teacher_ckpts, reads_unknown):
    cfg = with_teacher_checkpoints(CLS_DISTILL, teacher_ckpts)
    cfg.model.weighting = dict(type='ReadsUnknown')
    with pytest.raises(BuildError, match=r"model.weighting ReadsUnknown "
                       r"reads unknown state quantities \['teacher_mood'\]"):
        build_model(cfg)
