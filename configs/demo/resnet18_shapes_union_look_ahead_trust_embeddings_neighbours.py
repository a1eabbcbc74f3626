# LookAheadTrust (ours) from the teachers' embeddings, trained on the
# neighbourhood credit (4 nearest images of the batch).
_base_ = './resnet18_shapes_union_look_ahead_trust.py'

model = dict(weighting=dict(policy_input='embeddings', credit_neighbours=4))
