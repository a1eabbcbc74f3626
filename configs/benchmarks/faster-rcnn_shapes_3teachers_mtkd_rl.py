# Cost benchmark: as faster-rcnn_shapes_3teachers_aver.py with MTKD-RL
# weights (agent updates amortised by benchmark_distill.py).
_base_ = './faster-rcnn_shapes_3teachers_aver.py'

model = dict(weighting=dict(type='MTKDRL', warmup_iters=0))
