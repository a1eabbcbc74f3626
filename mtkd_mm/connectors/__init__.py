from .connectors import BottleneckConnector, Connector, ConvBNReLUConnector

__all__ = ['BottleneckConnector', 'Connector', 'ConvBNReLUConnector']
