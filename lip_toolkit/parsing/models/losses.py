"""Parsing losses: CE2P's class-balanced edge cross-entropy and SCHP's parsing-edge consistency.

SCHP's Lovász-softmax term is MMSeg's own ``LovaszLoss`` (the same algorithm as SCHP's ``utils/lovasz_softmax.py``,
both from Berman et al.'s code), checked in tests/parsing/test_losses.py against the definition.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS


def class_balanced_edge_weights(edge_label: torch.Tensor, ignore_index: int = 255) -> torch.Tensor:
    """Per-batch weights (w_non_edge, w_edge) = (N_edge / N, N_non_edge / N) over the labelled pixels.

    The rare class (edges) gets the larger weight, as in CE2P's ``CriterionAll``.

    Args:
        edge_label: (B, H, W) integer map, 1 = edge, 0 = not edge, ``ignore_index`` = unlabelled.
        ignore_index: label value that is not counted.

    Returns:
        A float tensor of shape (2,).

    Examples:
        >>> class_balanced_edge_weights(torch.tensor([[[0, 0, 0, 1]]]))
        tensor([0.2500, 0.7500])
    """
    valid = edge_label != ignore_index
    num_edge = (edge_label[valid] == 1).sum().float()
    num_total = valid.sum().float().clamp(min=1)
    return torch.stack([num_edge / num_total, (num_total - num_edge) / num_total])


@MODELS.register_module()
class ClassBalancedEdgeLoss(nn.Module):
    """Two-class edge cross-entropy weighted by :func:`class_balanced_edge_weights` of the batch.

    ``F.cross_entropy`` with class weights and mean reduction divides by the sum of the weights of the counted
    pixels, so the loss is a weighted mean, as in the reference.

    Args:
        loss_weight: factor on the loss (1 in CE2P).
        loss_name: key in the loss dict; must start with ``loss_`` to be optimised.
    """

    def __init__(self, loss_weight: float = 1.0, loss_name: str = 'loss_edge'):
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, edge_logits: torch.Tensor, edge_label: torch.Tensor,
                ignore_index: int = 255) -> torch.Tensor:
        """Args: edge_logits (B, 2, H, W) at the label's size; edge_label (B, H, W) long."""
        weights = class_balanced_edge_weights(edge_label, ignore_index).to(edge_logits.dtype)
        # With one class absent every counted pixel has weight 0 (0/0): nothing to learn from this batch.
        if not bool((weights > 0).all()):
            return edge_logits.sum() * 0.0
        return self.loss_weight * F.cross_entropy(edge_logits, edge_label, weight=weights,
                                                  ignore_index=ignore_index)


def soft_edges_from_parsing(probs: torch.Tensor, edge_width: int = 3) -> torch.Tensor:
    """Probability that each pixel is a part boundary, from per-pixel class probabilities.

    The differentiable form of CE2P's edge rule (a pixel is an edge when its label differs from its lower, right
    or a diagonal neighbour, then dilated by an ``edge_width`` square): two pixels with class distributions
    ``p`` and ``q`` differ with probability ``1 - <p, q>``; a pixel takes the largest of its four pairs and the
    map is max-pooled over ``edge_width``. On one-hot inputs it is exactly the hard edge map.

    Args:
        probs: (B, C, H, W) probabilities.

    Returns:
        (B, H, W) values in [0, 1].
    """
    def differ(a, b):
        return (1 - (a * b).sum(dim=1)).clamp(min=0)

    edge = probs.new_zeros(probs.shape[0], *probs.shape[2:])
    pairs = (
        ((slice(None), slice(1, None), slice(None)), (slice(None), slice(None, -1), slice(None))),
        ((slice(None), slice(None), slice(None, -1)), (slice(None), slice(None), slice(1, None))),
        ((slice(None), slice(None, -1), slice(None, -1)), (slice(None), slice(1, None), slice(1, None))),
        ((slice(None), slice(None, -1), slice(1, None)), (slice(None), slice(1, None), slice(None, -1))),
    )
    for here, there in pairs:
        p_here = probs[(slice(None), slice(None)) + here[1:]]
        p_there = probs[(slice(None), slice(None)) + there[1:]]
        value = differ(p_here, p_there)
        padded = edge.new_zeros(edge.shape)
        padded[here] = value
        edge = torch.maximum(edge, padded)
    if edge_width > 1:
        edge = F.max_pool2d(edge[:, None], kernel_size=edge_width, stride=1, padding=edge_width // 2)[:, 0]
        edge = edge[:, :probs.shape[2], :probs.shape[3]]
    return edge


@MODELS.register_module()
class ParsingEdgeConsistencyLoss(nn.Module):
    """SCHP's parsing-edge consistency: the boundaries of the parsing prediction should be where the edge branch
    puts edges (λ_c = 0.1 in SCHP, ``train.py`` line 68, ``utils/consistency_loss.py``).

    Smooth-L1 between :func:`soft_edges_from_parsing` of the softmax of the parsing logits and the edge branch's
    edge probability, averaged over the labelled pixels where either of the two, taken hard (argmax), is an edge.
    SCHP's own code compares the two *hard* maps on the pixels where *both* are edges, where they are equal by
    construction: its term is always 0 and has no gradient. This keeps its pixels' intent (the boundary region,
    not the whole background) and makes the term differentiable, so it acts on both branches.

    Args:
        edge_width: dilation of the parsing boundaries (3, as the edge targets).
        loss_weight: factor on the loss.
        loss_name: key in the loss dict.
    """

    def __init__(self, edge_width: int = 3, loss_weight: float = 0.1, loss_name: str = 'loss_consistency'):
        super().__init__()
        self.edge_width = edge_width
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, parsing_logits: torch.Tensor, edge_logits: torch.Tensor, label: torch.Tensor,
                ignore_index: int = 255) -> torch.Tensor:
        """Args: parsing_logits (B, C, H, W) and edge_logits (B, 2, H, W) at the size of label (B, H, W)."""
        parsing_edge = soft_edges_from_parsing(parsing_logits.softmax(dim=1), self.edge_width)
        predicted_edge = edge_logits.softmax(dim=1)[:, 1]
        with torch.no_grad():
            hard = F.one_hot(parsing_logits.argmax(dim=1), parsing_logits.shape[1]).permute(0, 3, 1, 2)
            region = (soft_edges_from_parsing(hard.to(parsing_logits.dtype), self.edge_width) > 0.5) \
                | (edge_logits.argmax(dim=1) == 1)
            region &= label != ignore_index
        if not bool(region.any()):
            return (parsing_logits.sum() + edge_logits.sum()) * 0.0
        return self.loss_weight * F.smooth_l1_loss(parsing_edge[region], predicted_edge[region])
