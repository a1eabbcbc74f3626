from .roi_align import SeparableRoIAlign, separable_roi_align

__all__ = ['SeparableRoIAlign', 'separable_roi_align']
