# As resnet18_shapes_union_mtkd_rl.py, with the agent trained by REINFORCE
# (Dirichlet actions, running-mean baseline; ours) instead of the released
# code's surrogate, whose gradient pushes every teacher's weight up alike.
_base_ = './resnet18_shapes_union_mtkd_rl.py'

model = dict(weighting=dict(policy='reinforce'))
