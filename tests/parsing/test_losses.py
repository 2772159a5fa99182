"""SCHP's loss terms: Lovász-softmax (MMSeg's ``LovaszLoss``, as the SCHP config uses it) and the parsing-edge
consistency, each against references written here from the definitions, and the SCHP head's loss dict."""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from lip_toolkit.parsing.models import ParsingEdgeConsistencyLoss, SCHPHead, soft_edges_from_parsing

init_default_scope('mmseg')
pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


def lovasz_from_definition(probs: np.ndarray, labels: np.ndarray, ignore=255) -> float:
    """Lovász-softmax from Berman et al.'s definition, no cumulative sums: for each class present, the Lovász
    extension of the Jaccard loss Δ(M) = |M| / |F ∪ M| (F the class's pixels, M a set of 'mistaken' pixels) at the
    error vector m_i = |[y_i = c] - p_i(c)|: Σ_k m_(k) (Δ({1..k}) - Δ({1..k-1})) over errors sorted downwards,
    each Δ counted with Python sets. Mean over the classes present."""
    valid = labels.reshape(-1) != ignore
    p = probs.transpose(0, 2, 3, 1).reshape(-1, probs.shape[1])[valid]
    y = labels.reshape(-1)[valid]
    losses = []
    for c in sorted(set(y.tolist())):
        foreground = {i for i in range(len(y)) if y[i] == c}
        errors = [abs(float(y[i] == c) - p[i, c]) for i in range(len(y))]
        order = sorted(range(len(y)), key=lambda i: -errors[i])

        def jaccard_loss(mistakes):
            return len(mistakes) / len(foreground | mistakes) if mistakes else 0.0

        total, prefix = 0.0, set()
        for i in order:
            before = jaccard_loss(prefix)
            prefix = prefix | {i}
            total += errors[i] * (jaccard_loss(prefix) - before)
        losses.append(total)
    return float(np.mean(losses))


def lovasz_term():
    return MODELS.build(dict(type='LovaszLoss', loss_type='multi_class', classes='present', per_image=False,
                             reduction='none', loss_weight=1.0))


def test_lovasz_softmax_equals_the_lovasz_extension_from_its_definition():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 4, 5, 6)).astype(np.float32)
    labels = rng.integers(0, 4, size=(2, 5, 6))
    labels[0, 0, :3] = 255
    labels[labels == 3] = 2  # class 3 absent: 'present' leaves it out of the mean
    probs = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
    expected = lovasz_from_definition(probs, labels)
    got = lovasz_term()(torch.from_numpy(logits), torch.from_numpy(labels), ignore_index=255)
    assert float(got) == pytest.approx(expected, rel=1e-5)


def test_lovasz_softmax_of_hard_predictions_is_one_minus_the_iou():
    # On 0/1 errors the Lovász extension equals the set function: mean over present classes of 1 - IoU.
    labels = torch.tensor([[[0, 0, 1, 1], [0, 2, 2, 1], [255, 2, 2, 2]]])
    pred = torch.tensor([[[0, 1, 1, 1], [0, 0, 2, 2], [1, 2, 2, 2]]])
    logits = F.one_hot(pred, 3).permute(0, 3, 1, 2).float() * 100.0
    # by hand: class 0: inter 2, union 4 -> 0.5; class 1: inter 2, union 4 -> 0.5; class 2: inter 4, union 6 -> 1/3
    expected = np.mean([1 - 2 / 4, 1 - 2 / 4, 1 - 4 / 6])
    assert float(lovasz_term()(logits, labels, ignore_index=255)) == pytest.approx(expected, abs=1e-6)


def hard_edges_by_loop(labels: np.ndarray, width: int = 3) -> np.ndarray:
    """CE2P's edge rule pixel by pixel: an edge where the label differs from the pixel below, to the right, below
    right, or (for the pixel above) above-right... i.e. the marked side of each of the four pairs, then a
    width x width dilation."""
    h, w = labels.shape
    edge = np.zeros((h, w), bool)
    for i, j in itertools.product(range(h), range(w)):
        if i >= 1 and labels[i, j] != labels[i - 1, j]:
            edge[i, j] = True
        if j + 1 < w and labels[i, j] != labels[i, j + 1]:
            edge[i, j] = True
        if i + 1 < h and j + 1 < w and labels[i, j] != labels[i + 1, j + 1]:
            edge[i, j] = True
        if i + 1 < h and j >= 1 and labels[i, j] != labels[i + 1, j - 1]:
            edge[i, j] = True
    r = width // 2
    dilated = np.zeros_like(edge)
    for i, j in zip(*np.nonzero(edge)):
        dilated[max(0, i - r):i + r + 1, max(0, j - r):j + r + 1] = True
    return dilated


def test_soft_parsing_edges_are_the_hard_edge_rule_on_one_hot_inputs():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, size=(7, 9))
    labels[:, :4] = 0
    probs = F.one_hot(torch.from_numpy(labels), 3).permute(2, 0, 1)[None].float()
    got = soft_edges_from_parsing(probs, edge_width=3)[0].numpy()
    assert set(np.unique(got)) <= {0.0, 1.0}
    assert (got == 1).tolist() == hard_edges_by_loop(labels).tolist()


def test_soft_parsing_edge_of_two_uncertain_pixels_by_hand():
    # two pixels side by side, p = (0.8, 0.2) and q = (0.3, 0.7): they differ with prob 1 - (0.24 + 0.14) = 0.62
    probs = torch.tensor([[0.8, 0.3], [0.2, 0.7]])[:, None, :][None]  # (1, 2 classes, 1, 2)
    got = soft_edges_from_parsing(probs, edge_width=1)[0]
    assert got[0].tolist() == pytest.approx([0.62, 0.0])


def test_consistency_loss_by_hand_and_its_gradient_reaches_both_branches():
    # 1x2 image, both pixels labelled; parsing argmax differs between them -> both pixels in the boundary region
    # (edge_width 1: only the left pixel is marked, the right one is not an edge of the parsing)
    parsing = torch.tensor([[[[2.0, -1.0]], [[0.0, 1.0]]]], requires_grad=True)
    edge = torch.tensor([[[[0.0, 0.0]], [[1.0, 2.0]]]], requires_grad=True)
    label = torch.tensor([[[0, 1]]])
    loss = ParsingEdgeConsistencyLoss(edge_width=1, loss_weight=1.0)(parsing, edge, label)
    p = torch.softmax(parsing.detach(), dim=1)[0, :, 0]
    parsing_edge = [1 - float((p[:, 0] * p[:, 1]).sum()), 0.0]
    edge_prob = torch.softmax(edge.detach(), dim=1)[0, 1, 0].tolist()
    # edge argmax is 1 on both pixels, so both count; smooth L1 (beta 1) of differences below 1 is d^2 / 2
    expected = np.mean([(a - b) ** 2 / 2 for a, b in zip(parsing_edge, edge_prob)])
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    loss.backward()
    assert parsing.grad.abs().sum() > 0 and edge.grad.abs().sum() > 0


def test_consistency_loss_ignores_unlabelled_pixels_and_is_zero_without_boundaries():
    parsing = torch.zeros(1, 3, 4, 4)
    parsing[:, 0] = 5.0  # one class everywhere: no parsing boundary
    edge = torch.zeros(1, 2, 4, 4)
    edge[:, 0] = 5.0  # no predicted edge either
    label = torch.zeros(1, 4, 4, dtype=torch.long)
    assert float(ParsingEdgeConsistencyLoss()(parsing, edge, label)) == 0.0
    edge[:, 1, 0, 0] = 10.0  # one predicted edge pixel, but unlabelled
    label[0, 0, 0] = 255
    assert float(ParsingEdgeConsistencyLoss()(parsing, edge, label)) == 0.0


def test_schp_head_adds_consistency_to_the_ce2p_terms():
    torch.manual_seed(0)
    stages = [8, 16, 32, 64]
    head = SCHPHead(in_channels=stages, channels=16, context=dict(type='PSPContext', channels=24, pool_channels=8),
                    skip_channels=6, edge_channels=10, num_classes=20, norm_cfg=dict(type='BN'),
                    loss_decode=[dict(type='CrossEntropyLoss', loss_weight=0.5),
                                 dict(type='LovaszLoss', reduction='none', loss_weight=0.5)])
    inputs = [torch.randn(2, c, 32 // s, 32 // s) for c, s in zip(stages, [4, 8, 16, 16])]
    samples = []
    for _ in range(2):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 20, (1, 32, 32)))
        samples.append(sample)
    losses = head.loss(inputs, samples, train_cfg=None)
    assert {'decode.loss_ce_decoder', 'decode.loss_ce_fused', 'decode.loss_lovasz_decoder',
            'decode.loss_lovasz_fused', 'decode.loss_edge', 'decode.loss_consistency'} <= set(
        f'decode.{k}' for k in losses)
    assert float(losses['loss_consistency']) > 0
