"""What MMPose's and MMSeg's ``tools/`` scripts do, as functions behind ``lip-toolkit`` commands.

* :func:`~lip_toolkit.tools.print_config.print_config` (``tools/misc/print_config.py``): the resolved config;
* :func:`~lip_toolkit.tools.browse_dataset.browse_dataset` (``tools/misc/browse_dataset.py``): augmented
  training samples drawn;
* :func:`~lip_toolkit.tools.get_flops.get_flops` (``tools/analysis_tools/get_flops.py``): FLOPs and parameters;
* :func:`~lip_toolkit.tools.publish_model.publish_model` (``tools/misc/publish_model.py``): a checkpoint
  stripped for release, its sha256 prefix in the name.

Each module imports torch / mmpose / mmseg only inside its functions.
"""
