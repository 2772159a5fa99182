"""SCHP's head (GoGoDuck912/Self-Correction-Human-Parsing ``networks/AugmentCE2P.py``): the CE2P head with one
more loss term, the parsing-edge consistency (:class:`ParsingEdgeConsistencyLoss`) on each parsing output against
the edge output (SCHP ``utils/criterion.py`` lines 93-101)."""
from mmseg.registry import MODELS

from .ce2p_head import CE2PHead


@MODELS.register_module()
class SCHPHead(CE2PHead):
    """:class:`CE2PHead` plus ``loss_consistency`` on ``seg1`` and ``seg2`` (summed, as SCHP sums over outputs).

    Args:
        loss_consistency: config of the consistency loss (SCHP: weight 0.1).
        **kwargs: :class:`CE2PHead` arguments.
    """

    def __init__(self, loss_consistency: dict = dict(type='ParsingEdgeConsistencyLoss', loss_weight=0.1),
                 **kwargs):
        super().__init__(**kwargs)
        self.loss_consistency = MODELS.build(loss_consistency)

    def loss_by_feat(self, seg_logits, batch_data_samples) -> dict:
        losses = super().loss_by_feat(seg_logits, batch_data_samples)
        seg1, seg2, edge = seg_logits
        seg_label = self._stack_batch_gt(batch_data_samples).squeeze(1).long()
        size = seg_label.shape[1:]
        edge = self._upsample(edge, size)
        losses[self.loss_consistency.loss_name] = sum(
            self.loss_consistency(self._upsample(logits, size), edge, seg_label, ignore_index=self.ignore_index)
            for logits in (seg1, seg2))
        return losses
