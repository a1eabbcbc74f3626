# LookAheadTrust (ours), an ablation: a tempered policy, entropy weight
# lambda_H = 0.5 instead of 0.1 (the policy's optimum is softmax(credit /
# lambda_H)): a teacher ahead by one credit spread keeps about 0.79 of the
# weight against two equal rivals, by half a spread about 0.58.
_base_ = './fcos_shapes_union_look_ahead_trust.py'

model = dict(weighting=dict(entropy_weight=0.5))
