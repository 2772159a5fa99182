"""The MMSeg side, mirroring :mod:`lip_toolkit.pose`. Registration with mmseg is in :mod:`lip_toolkit.parsing.plugins`."""
