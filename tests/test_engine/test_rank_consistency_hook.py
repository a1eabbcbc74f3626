"""RankConsistencyHook raises when two gloo ranks hold different weights
and names the tensor; it stays silent when they agree."""
import logging
import os
import types

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mtkd_mm.engine.hooks.rank_consistency_hook import RankConsistencyHook


def check_on_rank(rank, port, differ, results):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    if differ and rank == 1:
        with torch.no_grad():
            model[1].bias.add_(1e-6)
    runner = types.SimpleNamespace(
        model=model, iter=7, logger=logging.getLogger('rank-check'))
    try:
        RankConsistencyHook().check(runner)
        results[rank] = 'same'
    except RuntimeError as error:
        results[rank] = str(error)
    dist.destroy_process_group()


@pytest.mark.parametrize('differ', [False, True])
def test_hook_detects_a_rank_that_differs(differ):
    port = 29620 + int(differ)
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(check_on_rank, args=(port, differ, results), nprocs=2)
        results = dict(results)
    if not differ:
        assert results == {0: 'same', 1: 'same'}
    else:
        for message in results.values():
            assert 'rank 1 holds different weights' in message
            assert "'1.bias'" in message and 'iter 7' in message
