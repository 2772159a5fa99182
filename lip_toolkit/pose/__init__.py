"""The MMPose side. Registration with mmpose happens in :mod:`lip_toolkit.pose.plugins`."""
