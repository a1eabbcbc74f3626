from .entropy_ranked_mixup import EntropyRankedMixupDataset

__all__ = ['EntropyRankedMixupDataset']
