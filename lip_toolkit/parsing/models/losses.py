"""CE2P's edge loss: cross-entropy with class weights recomputed on every batch."""
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
