# LookAheadTrust (ours), trained on the neighbourhood credit: each image's
# look-ahead credit averaged over its 4 nearest images of the batch in the
# teachers' embeddings.
_base_ = './resnet18_shapes_union_look_ahead_trust.py'

model = dict(weighting=dict(credit_neighbours=4))
