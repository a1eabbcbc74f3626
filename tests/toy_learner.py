"""A learner for the tests of LearnerUpdateHook, unlike MTKD-RL in every
part the hook touches: Adam (optimiser state to save), a buffer moved after
each step (to broadcast), entries of other names."""
import torch
import torch.nn as nn

from mtkd_mm.learning import Learner
from mtkd_mm.registry import WEIGHTINGS
from mtkd_mm.weightings import TeacherWeighting, TeacherWeights


@WEIGHTINGS.register_module(force=True)
class ToyLearnedWeighting(Learner, TeacherWeighting):
    """w_k = K · softmax(preference)_k for every sample; it learns to prefer
    the teachers with the lowest stored KL, ``mean_i Σ_k w_k · KL_ik``."""

    reads = ('kl', )

    def __init__(self, update_interval=5):
        super().__init__()
        self.init_learner(
            dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=0.05)),
            update_interval, buffer_size=100)
        self.register_buffer('steps', torch.zeros(()))

    def setup(self, info):
        if len(info.logit_teachers) != len(info.names):
            raise ValueError('every teacher needs logits')
        self.preference = nn.Parameter(torch.zeros(len(info.names)))

    def teacher_weights(self):
        """(K,) the weights of every sample."""
        return len(self.preference) * self.preference.softmax(dim=0)

    def forward(self, state):
        if self.training:
            self.experience.add(kl=state.kl)
        weights = self.teacher_weights().detach().expand_as(state.kl)
        return TeacherWeights(logit=weights, feature=weights.clone())

    def update_loss(self, entry):
        return (self.teacher_weights() * entry['kl']).sum(dim=1).mean()

    def after_update_step(self, entry):
        self.steps += 1
