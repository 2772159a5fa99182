"""What a model's data preprocessor does to pixels, as plain numbers (shared by both tracks and the exporter)."""
from typing import Dict, List, Optional, Union


def normalisation_of(preprocessor) -> Dict[str, Union[bool, Optional[List[float]]]]:
    """``{'mean', 'std', 'bgr_to_rgb'}`` of an mmengine ``ImgDataPreprocessor`` (MMPose's and MMSeg's subclass it).

    ``mean`` / ``std`` are per channel of the network's input (after the channel swap), or None when the
    preprocessor does not normalise. MMSeg's ``SegDataPreProcessor`` names the swap flag ``channel_conversion``,
    mmengine's ``_channel_conversion``.
    """
    normalise = bool(getattr(preprocessor, '_enable_normalize', False))
    return dict(
        mean=[float(v) for v in preprocessor.mean.flatten()] if normalise else None,
        std=[float(v) for v in preprocessor.std.flatten()] if normalise else None,
        bgr_to_rgb=bool(getattr(preprocessor, 'channel_conversion',
                                getattr(preprocessor, '_channel_conversion', False))))
