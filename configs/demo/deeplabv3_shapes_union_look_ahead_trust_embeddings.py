# LookAheadTrust (ours) for segmentation teachers from different domains: the
# policy scores each teacher from its embedding (direction and scale, one
# competence head per teacher), not from its answer on the image.
_base_ = './deeplabv3_shapes_union_look_ahead_trust.py'

model = dict(weighting=dict(policy_input='embeddings'))
