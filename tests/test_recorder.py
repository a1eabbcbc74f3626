"""The recorder reads outputs and calls inside its block only, and nests."""
import torch
import torch.nn as nn

from mtkd_mm.views import Recorder


class Head(nn.Module):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x)

    def scores(self, x):
        return self(x).softmax(-1)


def test_records_inside_the_block_and_leaves_no_trace():
    head = Head()
    recorder = Recorder().module_output('fc', head.fc).method_call(
        'scores', head, 'scores')
    x = torch.randn(4, 3)
    with recorder.on():
        result = head.scores(x)
    assert torch.equal(recorder.outputs['fc'], head.fc(x))
    args, kwargs, recorded = recorder.calls['scores']
    assert args[0] is x and not kwargs and recorded is result
    assert 'scores' not in vars(head) and not head.fc._forward_hooks


def test_nested_recorders_on_one_method():
    head = Head()
    outer = Recorder().method_call('scores', head, 'scores')
    inner = Recorder().method_call('scores', head, 'scores')
    x, y = torch.randn(1, 3), torch.randn(2, 3)
    with outer.on():
        with inner.on():
            head.scores(x)
        assert outer.calls['scores'][0][0] is x, 'both saw the inner call'
        assert inner.calls['scores'][0][0] is x
        head.scores(y)  # the inner exit must not remove the outer wrapper
        assert outer.calls['scores'][0][0] is y
    assert inner.calls['scores'][0][0] is x
    assert 'scores' not in vars(head)
    head.scores(x)
    assert outer.calls['scores'][0][0] is y, 'nothing recorded after the block'


def test_one_recorder_two_keys_on_one_method():
    head = Head()
    recorder = Recorder().method_call('a', head, 'scores').method_call(
        'b', head, 'scores')
    x = torch.randn(1, 3)
    with recorder.on():
        head.scores(x)
    assert recorder.calls['a'][0][0] is x and recorder.calls['b'][0][0] is x
    assert 'scores' not in vars(head)
