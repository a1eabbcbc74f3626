# RLKD (Zhang et al., arXiv 2407.00115) with MTKD-RL teacher weights for
# Faster R-CNN R18-FPN on COCO (R50, R101 and X101 teachers): the MTKD-RL
# config with a temperature per sampled RoI (ours, as in
# faster_rcnn_r18_coco_kd.py) and the teachers' mean probability in the
# state.
_base_ = '../mtkd_rl/faster_rcnn_r18_coco.py'

model = dict(
    temperature=dict(
        _delete_=True, type='RLKDTemperature', warmup=2, rl_every=1,
        reward_stages=[
            dict(end=8, period=4, scale=10),
            dict(end=11, period=1.5, scale=5),
            dict(end=12, period=1.5, scale=2)
        ]))
