"""RankConsistencyHook stays silent while two gloo ranks agree, and raises,
naming the tensor, once one rank's weights differ."""
import logging
import os
import types

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mtkd_mm.engine.hooks.rank_consistency_hook import RankConsistencyHook


def check_on_rank(rank, port, results):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    runner = types.SimpleNamespace(
        model=model, iter=7, logger=logging.getLogger('rank-check'))
    outcomes = []
    for differ in (False, True):
        if differ and rank == 1:
            with torch.no_grad():
                model[1].bias.add_(1e-6)
        try:
            RankConsistencyHook().check(runner)
            outcomes.append('same')
        except RuntimeError as error:
            outcomes.append(str(error))
    results[rank] = outcomes
    dist.destroy_process_group()


def test_hook_detects_a_rank_that_differs():
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(check_on_rank, args=(29620, results), nprocs=2)
        results = dict(results)
    for same, differ in results.values():
        assert same == 'same'
        assert 'rank 1 holds different weights' in differ
        assert "'1.bias'" in differ and 'iter 7' in differ
