from .cwd import ChannelWiseDivergence
from .feature_mse import FeatureMSE
from .kl_divergence import KLDivergence
from .pkd import PKD

__all__ = ['ChannelWiseDivergence', 'FeatureMSE', 'KLDivergence', 'PKD']
