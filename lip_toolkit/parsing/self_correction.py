"""Self-correction for human parsing (SCHP; Li et al., TPAMI 2020) as a training option for any parsing config.

SCHP trains the usual way until ``start_epoch`` (its schedule annealed there), then runs cycles of ``cycle_epochs``
epochs with a cosine learning rate that restarts at each cycle. At ``start_epoch`` and at the end of every cycle after
it (SCHP ``train.py`` 211: epochs 100, 110, ..., 150 of its recipe, six aggregations):

* **online model aggregation**: a second copy of the model keeps the running average of the weights at those epochs,
  ``w_avg <- (1 - a) w_avg + a w`` with ``a = 1 / (m + 1)`` after ``m`` aggregations (the first copies ``w``), and its
  BatchNorm statistics are re-estimated by one pass over the training data (averaged weights do not match the
  statistics of any of the models averaged);
* **online label refinement**: from then on the cross-entropy terms of the model are computed against soft labels
  ``softmax((1 - a) z_avg + a onehot(y))``, ``z_avg`` the aggregated model's logits on the same (augmented) batch.

The arithmetic follows GoGoDuck912/Self-Correction-Human-Parsing (``train.py`` 156-219, ``utils/schp.py`` 18-68,
``utils/criterion.py`` 69-76, ``utils/warmup_scheduler.py`` 49-55). The soft labels are a function of the stored
labels, the aggregated weights and the cycle count, so the checkpoint holds what resuming needs: the aggregated
model's state and ``m`` (per-pixel soft labels of a whole dataset would not fit: LIP train at 473x473 x 20 classes
is 136 GB in bytes). Where this module departs from that code, on purpose (docs/self_correction.md):

* the aggregated model predicts in eval mode, with the statistics re-estimated for it (SCHP's stays in train
  mode, so its soft labels use batch statistics and dropout);
* ignored pixels stay ignored (SCHP's ``to_one_hot`` overwrites them with 0 in place, so its KL and the following
  Lovasz term count them as background);
* the soft term is the cross-entropy with the soft labels (equal to the KL up to the labels' entropy, which has
  no gradient), class-weighted (``-sum_c w_c q_c log p_c``) and reduced like the term it replaces (a
  class-weighted 'mean' is refused: MMSeg divides it by the hard labels' weights); ``soft_loss_scale``
  reproduces SCHP's ``F.kl_div`` 'mean', which also divides by the number of classes;
* the edge branch keeps its hard targets (SCHP refines edge labels the same way).

Switch it on for any parsing config without editing it::

    lip-toolkit train CONFIG --cfg-options default_hooks.self_correction.type=SelfCorrectionHook \
        default_hooks.self_correction.start_epoch=100 default_hooks.self_correction.cycle_epochs=10
"""
import copy
import math
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import _ParamScheduler
from mmseg.models.losses.utils import weight_reduce_loss
from mmseg.registry import HOOKS, PARAM_SCHEDULERS

from ..core.errors import LipToolkitError

CHECKPOINT_KEY = 'self_correction'


@PARAM_SCHEDULERS.register_module()
class CyclicCosineLR(LRSchedulerMixin, _ParamScheduler):
    """SCHP's cyclical learning rate: cosine from ``peak_ratio x lr`` down to ``eta_min_ratio x lr`` over each
    ``period`` steps from ``begin``, restarting at the peak (``utils/warmup_scheduler.py`` line 55 of SCHP).

    Values are absolute (closed form of the step, not chained on the previous value), so the schedulers that ran
    before ``begin`` leave nothing behind. ``lr`` is the optimizer's initial learning rate.

    Args:
        optimizer: the optimizer (or optim wrapper).
        period: steps per cycle (epochs when ``by_epoch``).
        peak_ratio: learning rate at each cycle start, as a fraction of the initial one (SCHP: 1/2).
        eta_min_ratio: learning rate the cosine ends at, as a fraction of the initial one (SCHP: 1/100).
        begin, end, by_epoch: as for every mmengine scheduler.
    """

    def __init__(self, optimizer, period: int, peak_ratio: float = 0.5, eta_min_ratio: float = 0.01,
                 begin: int = 0, end: int = int(1e9), last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False):
        if period < 1:
            raise LipToolkitError(f'CyclicCosineLR: period must be at least 1, got {period}')
        self.period = int(period)
        self.peak_ratio = float(peak_ratio)
        self.eta_min_ratio = float(eta_min_ratio)
        super().__init__(optimizer, begin=begin, end=end, last_step=last_step, by_epoch=by_epoch,
                         verbose=verbose)

    def _get_value(self) -> List[float]:
        phase = ((self._global_step - self.begin) % self.period) / self.period
        return [base * (self.eta_min_ratio + (self.peak_ratio - self.eta_min_ratio) * (1 + math.cos(math.pi * phase)) / 2)
                for base in self.base_values]


class RefinedLabelLoss(nn.Module):
    """Wraps a cross-entropy term of a decode head: the term itself until soft labels are set, then the
    cross-entropy with ``softmax((1 - a) z + a onehot(label))`` for the aggregated model's logits ``z``
    (:func:`soft_cross_entropy`, with the term's class weights, reduction and ``loss_weight``).

    The hook sets :attr:`soft_logits` and :attr:`label_weight` (``a``) for one training iteration and clears them.

    Args:
        plain: the loss module replaced (MMSeg's softmax ``CrossEntropyLoss``, with or without class weights).
        scale: factor on the soft term, on top of the plain term's ``loss_weight``.
        mixing: how the label enters the soft labels (:func:`refined_soft_labels`).
    """

    def __init__(self, plain: nn.Module, scale: float = 1.0, mixing: str = 'logits'):
        super().__init__()
        _check_reduction(plain.class_weight, plain.reduction)
        self.plain = plain
        self.scale = float(scale)
        self.mixing = mixing
        self.soft_logits: Optional[torch.Tensor] = None
        self.label_weight = 1.0

    @property
    def loss_name(self) -> str:
        return self.plain.loss_name

    def forward(self, cls_score, label, weight=None, avg_factor=None, reduction_override=None, ignore_index=255,
                **kwargs):
        if self.soft_logits is None:
            return self.plain(cls_score, label, weight=weight, avg_factor=avg_factor,
                              reduction_override=reduction_override, ignore_index=ignore_index, **kwargs)
        target = refined_soft_labels(self.soft_logits, label, self.label_weight, ignore_index,
                                     size=cls_score.shape[2:], mixing=self.mixing)
        class_weight = None if self.plain.class_weight is None else cls_score.new_tensor(self.plain.class_weight)
        loss = soft_cross_entropy(cls_score, target, label, weight=weight, class_weight=class_weight,
                                  reduction=reduction_override or self.plain.reduction, avg_factor=avg_factor,
                                  ignore_index=ignore_index, avg_non_ignore=self.plain.avg_non_ignore)
        return self.scale * self.plain.loss_weight * loss


def _check_reduction(class_weight, reduction: str) -> None:
    if class_weight is not None and reduction == 'mean':
        # MMSeg 1.2.2 divides this mean by the class weights of the hard labels (and fails on ignored pixels): no
        # soft-label counterpart to match.
        raise LipToolkitError("SelfCorrectionHook: a class-weighted CrossEntropyLoss with reduction='mean' cannot "
                              "be refined (MMSeg divides it by the hard labels' weights); use reduction='none', "
                              'as configs/demo do')


def soft_cross_entropy(cls_score: torch.Tensor, target: torch.Tensor, label: torch.Tensor, weight=None,
                       class_weight: Optional[torch.Tensor] = None, reduction: str = 'mean', avg_factor=None,
                       ignore_index: int = 255, avg_non_ignore: bool = False) -> torch.Tensor:
    """Cross-entropy with probability targets, reduced as MMSeg's ``cross_entropy`` reduces the hard one.

    Per pixel ``-sum_c w_c q_c log p_c`` (``w`` the class weights, 1 without; torch's ``F.cross_entropy`` with
    probability targets and ``weight``; for a one-hot ``q`` MMSeg's ``-w_y log p_y``), 0 where ``label`` is
    ``ignore_index``, times the pixel ``weight``. ``'none'`` returns that (B, H, W) map, ``'sum'`` its sum,
    ``'mean'`` its sum over all pixels, or the labelled ones with ``avg_non_ignore`` (or over ``avg_factor``); a
    class-weighted ``'mean'`` without ``avg_factor`` is refused (:func:`_check_reduction`).
    """
    valid = label != ignore_index
    log_probs = F.log_softmax(cls_score, dim=1)
    if class_weight is not None:
        log_probs = log_probs * class_weight.view(1, -1, 1, 1)
    per_pixel = -(target * log_probs).sum(dim=1) * valid
    if avg_factor is None and reduction == 'mean':
        _check_reduction(class_weight, reduction)
        avg_factor = int(valid.sum()) if avg_non_ignore else label.numel()
    return weight_reduce_loss(per_pixel, weight=None if weight is None else weight.float(), reduction=reduction,
                              avg_factor=avg_factor)


LABEL_MIXINGS = ('logits', 'probabilities')


def refined_soft_labels(soft_logits: torch.Tensor, label: torch.Tensor, label_weight: float,
                        ignore_index: int = 255, size=None, mixing: str = 'logits') -> torch.Tensor:
    """SCHP's refined labels: ``softmax((1 - a) z + a onehot(label))`` per pixel (``utils/criterion.py`` 72-76),
    or with ``mixing='probabilities'`` ``(1 - a) softmax(z) + a onehot(label)``.

    SCHP's code adds the label to the logits, where it weighs at most ``a`` against logit margins of several units,
    so the aggregated model overrides the label wherever it is confident; averaged as probabilities the label keeps
    weight ``a`` (1/2 after the first aggregation: the argmax cannot change before the second).

    Args:
        soft_logits: (B, C, h, w) logits of the aggregated model, bilinearly resized to ``size`` (align_corners
            True, as SCHP) when that differs.
        label: (B, H, W) integer labels; ``ignore_index`` pixels get the softmax of ``(1 - a) z`` alone (they are
            masked out of every loss).
        label_weight: ``a = 1 / (m + 1)`` after ``m`` aggregations.
        mixing: ``'logits'`` (SCHP's code) or ``'probabilities'``.

    Returns:
        (B, C, H, W) probabilities.
    """
    if mixing not in LABEL_MIXINGS:
        raise LipToolkitError(f"label mixing must be one of {', '.join(LABEL_MIXINGS)}, got {mixing!r}")
    size = tuple(size or label.shape[-2:])
    if tuple(soft_logits.shape[-2:]) != size:
        soft_logits = F.interpolate(soft_logits, size=size, mode='bilinear', align_corners=True)
    num_classes = soft_logits.shape[1]
    valid = label != ignore_index
    onehot = F.one_hot(torch.where(valid, label, torch.zeros_like(label)).long(), num_classes)
    onehot = onehot.permute(0, 3, 1, 2).to(soft_logits.dtype) * valid[:, None]
    if mixing == 'probabilities':
        return (1 - label_weight) * torch.softmax(soft_logits.detach(), dim=1) + label_weight * onehot
    return torch.softmax((1 - label_weight) * soft_logits.detach() + label_weight * onehot, dim=1)


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if is_model_wrapper(model) else model


def _batch_norms(model: nn.Module) -> List[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]


def average_weights(averaged: nn.Module, current: nn.Module, cycles_done: int) -> None:
    """``averaged <- (1 - a) averaged + a current``, ``a = 1 / (cycles_done + 1)``, over the parameters
    (SCHP ``utils/schp.py`` 18-21). The first aggregation (``cycles_done == 0``) copies the whole state, buffers
    included."""
    if cycles_done == 0:
        averaged.load_state_dict(current.state_dict())
        return
    alpha = 1.0 / (cycles_done + 1)
    with torch.no_grad():
        for avg_param, param in zip(averaged.parameters(), current.parameters()):
            avg_param.mul_(1.0 - alpha).add_(param.detach(), alpha=alpha)


@torch.no_grad()
def reestimate_batch_norm(model: nn.Module, batches, forward, size_of) -> int:
    """Recompute every BatchNorm's running mean and variance as the average over ``batches`` of the batch
    statistics, each batch weighted by its size (SCHP ``utils/schp.py`` 51-68: momentum ``b / (n + b)``).

    Under ``torch.distributed`` each process passes its own share and the averages are then averaged over the
    processes (equal shares, as mmengine's ``DefaultSampler`` gives, make that the average over all batches).

    Args:
        model: the model whose statistics are re-estimated (left in eval mode).
        batches: iterable of whatever ``forward`` takes.
        forward: ``forward(model, batch)`` runs the model on one batch.
        size_of: ``size_of(batch)`` is the number of samples in it.

    Returns:
        The number of samples this process passed.
    """
    norms = _batch_norms(model)
    if not norms:
        return 0
    momenta = {norm: norm.momentum for norm in norms}
    for norm in norms:
        norm.reset_running_stats()
    model.train()
    seen = 0
    try:
        for batch in batches:
            size = size_of(batch)
            for norm in norms:
                norm.momentum = size / (seen + size)
            forward(model, batch)
            seen += size
    finally:
        for norm, momentum in momenta.items():
            norm.momentum = momentum
        model.eval()
    if get_world_size() > 1:
        for norm in norms:
            all_reduce(norm.running_mean, op='mean')
            all_reduce(norm.running_var, op='mean')
    return seen


class _SegmentorForward:
    """Runs a segmentor on one batch of a training dataloader (its own data preprocessor, training mode)."""

    def __init__(self, preprocessor):
        self.preprocessor = preprocessor

    def prepare(self, data_batch: Dict):
        batch = dict(inputs=data_batch['inputs'], data_samples=copy.deepcopy(data_batch['data_samples']))
        data = self.preprocessor(batch, True)
        metas = [sample.metainfo for sample in data['data_samples']]
        return data['inputs'], metas

    @staticmethod
    def size_of(data_batch: Dict) -> int:
        return len(data_batch['inputs'])

    def __call__(self, model, data_batch):
        inputs, metas = self.prepare(data_batch)
        return model.encode_decode(inputs, metas)


@HOOKS.register_module()
class SelfCorrectionHook(Hook):
    """SCHP's self-correction on any MMSeg segmentor, through hooks only (see the module docstring).

    From ``start_epoch`` the learning rate follows :class:`CyclicCosineLR` (the config's schedulers are cut at
    ``start_epoch``); at ``start_epoch`` and every ``cycle_epochs`` epochs after it the weights are aggregated,
    BatchNorm re-estimated and the softmax cross-entropy terms of every decode / auxiliary head (class-weighted or
    not) switch to refined soft labels. The aggregated model and the cycle count go into every checkpoint, so
    ``--resume`` continues exactly. With ``final_weights='averaged'`` the last epoch ends with the aggregated
    weights loaded into the model, so the final checkpoint and validation are those of the aggregated model (SCHP's
    released weights are).

    Args:
        start_epoch: epochs before the first cycle, at whose end the first aggregation is made (SCHP: 100 of 150;
            the config's schedule should end annealed there, as SCHP's cosine does).
        cycle_epochs: epochs per cycle (SCHP: 10).
        cyclic_lr: replace the learning rate schedule from ``start_epoch`` with :class:`CyclicCosineLR`.
        peak_ratio, eta_min_ratio: of :class:`CyclicCosineLR` (SCHP: 1/2 and 1/100 of the initial lr).
        soft_loss_scale: factor on the soft cross-entropy (1: on the scale of the term it replaces; SCHP's KL
            with 'mean' reduction is 1 / num_classes of that).
        refine_labels: train on refined soft labels after the first aggregation (False keeps the hard labels: the
            cycles and the aggregation alone, for ablations).
        label_mixing: ``'logits'`` (SCHP's code: the label is added to the aggregated model's logits) or
            ``'probabilities'`` (a weighted average of the model's probabilities and the one-hot label, in which
            the label keeps weight ``a``); see :func:`refined_soft_labels`.
        final_weights: ``'averaged'`` or ``'last'`` (keep the trained weights in the model).
    """

    priority = 'NORMAL'  # before CheckpointHook (VERY_LOW), so a cycle's end is in that epoch's checkpoint

    def __init__(self, start_epoch: int, cycle_epochs: int, cyclic_lr: bool = True, peak_ratio: float = 0.5,
                 eta_min_ratio: float = 0.01, soft_loss_scale: float = 1.0, refine_labels: bool = True,
                 label_mixing: str = 'logits', final_weights: str = 'averaged'):
        if start_epoch < 1 or cycle_epochs < 1:
            raise LipToolkitError(f'SelfCorrectionHook: start_epoch and cycle_epochs must be at least 1, '
                                  f'got {start_epoch} and {cycle_epochs}')
        if label_mixing not in LABEL_MIXINGS:
            raise LipToolkitError(f"SelfCorrectionHook: label_mixing must be one of {', '.join(LABEL_MIXINGS)}, "
                                  f'got {label_mixing!r}')
        if final_weights not in ('averaged', 'last'):
            raise LipToolkitError(f"SelfCorrectionHook: final_weights must be 'averaged' or 'last', got "
                                  f'{final_weights!r}')
        self.start_epoch = int(start_epoch)
        self.cycle_epochs = int(cycle_epochs)
        self.cyclic_lr = cyclic_lr
        self.peak_ratio = peak_ratio
        self.eta_min_ratio = eta_min_ratio
        self.soft_loss_scale = soft_loss_scale
        self.refine_labels = refine_labels
        self.label_mixing = label_mixing
        self.final_weights = final_weights
        self.cycles = 0
        self.averaged: Optional[nn.Module] = None
        self.refined_losses: List[RefinedLabelLoss] = []

    # ---- set-up -------------------------------------------------------------------------------------------
    def before_run(self, runner) -> None:
        model = _unwrap(runner.model)
        if not hasattr(model, 'encode_decode'):
            raise LipToolkitError('SelfCorrectionHook works with MMSeg segmentors (default_scope mmseg)')
        max_epochs = getattr(runner.train_loop, 'max_epochs', None)
        if max_epochs is None:
            raise LipToolkitError('SelfCorrectionHook needs an epoch-based training loop (train_cfg.max_epochs)')
        if self.start_epoch + self.cycle_epochs > max_epochs:
            raise LipToolkitError(f'SelfCorrectionHook: start_epoch {self.start_epoch} + cycle_epochs '
                                  f'{self.cycle_epochs} leave no complete cycle in {max_epochs} epochs')
        if (max_epochs - self.start_epoch) % self.cycle_epochs and self.final_weights == 'averaged':
            runner.logger.warning(
                f'self-correction: the last epoch ({max_epochs}) does not end a cycle (start {self.start_epoch}, '
                f'cycles of {self.cycle_epochs}): the final model keeps its own weights, not the aggregated ones')
        self.refined_losses = self._wrap_cross_entropy_terms(model)
        if not self.refined_losses:
            raise LipToolkitError("SelfCorrectionHook: no softmax CrossEntropyLoss in the model's decode heads, "
                                  'nothing to refine')
        self.averaged = copy.deepcopy(model)
        for param in self.averaged.parameters():
            param.requires_grad_(False)
        self.averaged.eval()
        if self.cyclic_lr:
            self._install_cyclic_lr(runner, max_epochs)

    def _wrap_cross_entropy_terms(self, model: nn.Module) -> List[RefinedLabelLoss]:
        from mmseg.models.losses import CrossEntropyLoss
        wrapped = []
        for module in model.modules():
            terms = getattr(module, 'loss_decode', None)
            if terms is None:
                continue
            pairs = list(enumerate(terms)) if isinstance(terms, nn.ModuleList) else [(None, terms)]
            for index, term in pairs:
                if isinstance(term, RefinedLabelLoss):
                    wrapped.append(term)
                    continue
                if not isinstance(term, CrossEntropyLoss) or term.use_sigmoid or term.use_mask:
                    continue
                refined = RefinedLabelLoss(term, self.soft_loss_scale, self.label_mixing)
                if index is None:
                    module.loss_decode = refined
                else:
                    terms[index] = refined
                wrapped.append(refined)
        return wrapped

    def _install_cyclic_lr(self, runner, max_epochs: int) -> None:
        schedulers = runner.param_schedulers
        if isinstance(schedulers, dict):
            raise LipToolkitError('SelfCorrectionHook: one optimizer expected (param_scheduler per optimizer '
                                  'is not supported); set cyclic_lr=False and schedule the cycles yourself')
        schedulers = list(schedulers or [])
        iters_per_epoch = len(runner.train_dataloader)
        for scheduler in schedulers:
            boundary = self.start_epoch if scheduler.by_epoch else self.start_epoch * iters_per_epoch
            scheduler.end = min(scheduler.end, boundary)
        schedulers.append(CyclicCosineLR(runner.optim_wrapper, period=self.cycle_epochs,
                                         peak_ratio=self.peak_ratio, eta_min_ratio=self.eta_min_ratio,
                                         begin=self.start_epoch, end=max_epochs, by_epoch=True))
        runner.param_schedulers = schedulers

    # ---- training -----------------------------------------------------------------------------------------
    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self.cycles == 0 or not self.refine_labels or data_batch is None:
            return
        forward = _SegmentorForward(_unwrap(runner.model).data_preprocessor)
        with torch.no_grad():
            soft_logits = forward(self.averaged, data_batch)
        for loss in self.refined_losses:
            loss.soft_logits = soft_logits
            loss.label_weight = 1.0 / (self.cycles + 1)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        for loss in self.refined_losses:
            loss.soft_logits = None

    def aggregates_after(self, epochs_done: int) -> bool:
        """Whether the weights are aggregated at the end of epoch ``epochs_done`` (counted from 1): at
        ``start_epoch`` (the model annealed by the schedule before the cycles is the first one aggregated) and at
        every cycle's end after it (SCHP ``train.py`` 211)."""
        return epochs_done >= self.start_epoch and (epochs_done - self.start_epoch) % self.cycle_epochs == 0

    def after_train_epoch(self, runner) -> None:
        done = runner.epoch + 1  # runner.epoch is the epoch that just ended, counted from 0
        if not self.aggregates_after(done):
            return
        model = _unwrap(runner.model)
        average_weights(self.averaged, model, self.cycles)
        self.cycles += 1
        forward = _SegmentorForward(model.data_preprocessor)
        seen = reestimate_batch_norm(self.averaged, runner.train_dataloader, forward, forward.size_of)
        runner.logger.info(f'self-correction: aggregation {self.cycles} at the end of epoch {done}: weights '
                           f'averaged, BatchNorm re-estimated on {seen} samples')
        if done == runner.train_loop.max_epochs and self.final_weights == 'averaged':
            model.load_state_dict(self.averaged.state_dict())
            runner.logger.info('self-correction: the model now holds the aggregated weights')

    # ---- checkpoints --------------------------------------------------------------------------------------
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(cycles=self.cycles)
        if self.cycles > 0 and self.averaged is not None:
            state['state_dict'] = {k: v.detach().cpu() for k, v in self.averaged.state_dict().items()}
        checkpoint[CHECKPOINT_KEY] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get(CHECKPOINT_KEY)
        if state is None:
            return
        self.cycles = int(state['cycles'])
        if self.cycles > 0:
            if self.averaged is None:
                raise LipToolkitError('SelfCorrectionHook: checkpoint loaded before the hook was set up')
            self.averaged.load_state_dict(state['state_dict'])
            self.averaged.eval()
