"""lip-toolkit: LIP (Look Into Person) pose and parsing on MMPose and MMSegmentation.

Importing this package is cheap (no torch, mmpose or mmseg): the CLI must answer ``--help`` in well under a
second. Our modules still register with the host registries whenever those are used: see
:mod:`lip_toolkit.registration` for how, and :func:`register_all_modules` to register eagerly.
"""
from .registration import install_registration_hook, register_all_modules
from .version import __version__

install_registration_hook()

__all__ = ['__version__', 'register_all_modules']
