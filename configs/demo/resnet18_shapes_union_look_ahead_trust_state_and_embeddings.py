# Ablation of LookAheadTrust (ours): the policy scores each teacher from its
# state and from its embedding (competence heads).
_base_ = './resnet18_shapes_union_look_ahead_trust.py'

model = dict(weighting=dict(policy_input='both'))
