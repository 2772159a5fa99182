"""Pictures of LIP data and results: skeletons, colour-coded parsing with legends, side-by-side panels,
training curves and evaluation bar charts.

Drawing functions take and return ``H x W x 3`` uint8 BGR arrays (read files with
:func:`lip_toolkit.core.image_io.read_image_bgr`); the ``visualize_*``/``plot_*`` functions write files and are
what ``lip-toolkit visualize`` calls.
"""
from .batch import visualize_parsing_predictions, visualize_pose_predictions, visualize_split
from .compose import side_by_side
from .curves import load_training_scalars, plot_training_curves
from .parsing import colorize_label, overlay_label, render_parsing
from .pose import LIP_JOINT_NAMES, LIP_SKELETON, draw_pose
from .reports import plot_report, plot_scores

__all__ = [
    'draw_pose', 'LIP_JOINT_NAMES', 'LIP_SKELETON', 'colorize_label', 'overlay_label', 'render_parsing',
    'side_by_side', 'load_training_scalars', 'plot_training_curves', 'plot_report', 'plot_scores',
    'visualize_split', 'visualize_pose_predictions', 'visualize_parsing_predictions',
]
