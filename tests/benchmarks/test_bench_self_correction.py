"""benchmarks/bench_self_correction.py: the label noise it draws is the noise it describes."""
import importlib.util
import sys

import numpy as np

from lip_toolkit.core.paths import REPO_ROOT


def _bench():
    name = 'bench_self_correction'
    if name not in sys.modules:  # registered under its name: the --jobs pool pickles its functions
        spec = importlib.util.spec_from_file_location(name, REPO_ROOT / 'benchmarks' / f'{name}.py')
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _person():
    label = np.zeros((20, 20), np.uint8)
    label[2:18, 5:15] = 5      # upper clothes
    label[4:8, 2:5] = 14       # left arm
    label[4:8, 15:18] = 15     # right arm
    label[9:11, 9:11] = 3      # a 4-pixel glove inside the clothes
    label[0, :] = 255
    return label


def test_boundary_shift_grows_a_part_by_the_drawn_radius_and_never_touches_ignored_pixels():
    bench = _bench()
    label = np.zeros((12, 12), np.uint8)
    label[3:8, 4:7] = 14
    label[0:3, :] = 255
    grown = bench.shift_boundaries(label, np.random.default_rng(0), prob=1.0, max_shift=1)
    # radius 1: the part takes its 4-neighbours (cv2's 3x3 ellipse is a cross), ignored pixels stay ignored
    part = label == 14
    expected = part.copy()
    expected[1:] |= part[:-1]
    expected[:-1] |= part[1:]
    expected[:, 1:] |= part[:, :-1]
    expected[:, :-1] |= part[:, 1:]
    expected &= label != 255
    assert ((grown == 14) == expected).all()
    assert (grown[label == 255] == 255).all() and ((grown == 0) == ((label == 0) & ~expected)).all()
    assert (bench.shift_boundaries(label, np.random.default_rng(0), prob=0.0, max_shift=3) == label).all()


def test_small_parts_take_the_label_that_surrounds_them_and_large_parts_stay():
    bench = _bench()
    label = _person()
    dropped = bench.drop_small_parts(label, np.random.default_rng(0), prob=1.0, small_area=10)
    assert not (dropped == 3).any() and (dropped[label == 3] == 5).all()
    assert ((dropped == label) | (label == 3)).all()
    kept = bench.drop_small_parts(label, np.random.default_rng(0), prob=1.0, small_area=4)  # 4 is not < 4
    assert (kept == label).all()


def test_left_right_swap_exchanges_every_pair():
    bench = _bench()
    label = _person()
    label[12, 12] = 18
    swapped = bench.swap_left_right(label)
    assert (swapped[label == 14] == 15).all() and (swapped[label == 15] == 14).all()
    assert (swapped[label == 18] == 19).all() and (swapped[label == 5] == 5).all()
