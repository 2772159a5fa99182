"""Helpers shared by the parsing tests: write label PNGs and score them with a straightforward reference."""
import numpy as np

NUM_CLASSES = 20


def write_grey(path, label):
    import cv2
    assert cv2.imwrite(str(path), np.asarray(label, np.uint8))


def write_paletted(path, label, seed=0):
    """A paletted PNG whose colours are shuffled, so reading colours instead of indices gives wrong ids."""
    from PIL import Image
    rng = np.random.default_rng(seed)
    image = Image.fromarray(np.asarray(label, np.uint8))
    image.putpalette(rng.integers(0, 256, 768).astype(np.uint8).tolist())
    image.save(str(path))


def reference_scores(pairs, num_classes=NUM_CLASSES):
    """The published LIP formula written out class by class (independent of the bincount implementation)."""
    pos = np.zeros(num_classes)
    res = np.zeros(num_classes)
    tp = np.zeros(num_classes)
    for gt, pred in pairs:
        gt = np.asarray(gt).astype(np.int64)
        pred = np.asarray(pred).astype(np.int64)
        scored = gt != 255
        for c in range(num_classes):
            pos[c] += np.count_nonzero(gt == c)
            res[c] += np.count_nonzero((pred == c) & scored)
            tp[c] += np.count_nonzero((gt == c) & (pred == c))
    iou = [tp[c] / max(1.0, pos[c] + res[c] - tp[c]) for c in range(num_classes)]
    return {
        'mIoU': 100.0 * sum(iou) / num_classes,
        'pixel_acc': 100.0 * tp.sum() / pos.sum(),
        'mean_acc': 100.0 * sum(tp[c] / max(1.0, pos[c]) for c in range(num_classes)) / num_classes,
        'IoU': [100.0 * value for value in iou],
    }


def random_pair(rng, height, width, present=None, ignore_band=True):
    """Random gt/pred pair: blocky regions, a 255 band in the ground truth, some correct pixels."""
    classes = np.arange(NUM_CLASSES) if present is None else np.asarray(present)
    small = rng.choice(classes, size=(max(1, height // 8), max(1, width // 8)))
    gt = np.kron(small, np.ones((8, 8), np.int64))[:height, :width]
    gt = np.pad(gt, ((0, height - gt.shape[0]), (0, width - gt.shape[1])), mode='edge')
    pred = np.where(rng.random((height, width)) < 0.6, gt, rng.choice(classes, size=(height, width)))
    if ignore_band:
        top = int(rng.integers(0, height // 2))
        gt[top:top + max(1, height // 6), :] = 255
    return gt.astype(np.uint8), pred.astype(np.uint8)


def assert_scores_match(scores, reference, class_names):
    for key in ('mIoU', 'pixel_acc', 'mean_acc'):
        assert abs(scores[key] - reference[key]) <= 1e-9, key
    assert list(scores['IoU']) == list(class_names)
    for name, expected in zip(class_names, reference['IoU']):
        assert abs(scores['IoU'][name] - expected) <= 1e-9, name
