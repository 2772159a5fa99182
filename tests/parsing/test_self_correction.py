"""Self-correction (lip_toolkit/parsing/self_correction.py): the cyclical schedule against SCHP's formula, weight
aggregation and BatchNorm re-estimation against direct computations, refined labels worked by hand, the soft term
against torch's and MMSeg's cross-entropy (class weights, reductions), the demo's class-weighted CE2P config
trained with it, and (slow) the switch on a real training: SIGKILL + resume equal to an uninterrupted run, and two
gloo ranks."""
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmseg.models.losses import CrossEntropyLoss
from mmseg.registry import PARAM_SCHEDULERS

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.core.paths import CONFIGS_DIR
from lip_toolkit.parsing.self_correction import (CHECKPOINT_KEY, CyclicCosineLR, RefinedLabelLoss,
                                                 SelfCorrectionHook, average_weights, reestimate_batch_norm,
                                                 refined_soft_labels)

pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


@pytest.fixture(autouse=True)
def _mmseg_scope():
    """MMSeg's registries for each test: set once at import, the scope was mmpose's whenever a pose test had run
    in between (tests/tools then tests/parsing failed with 'EncoderDecoder is not in the mmpose::model registry')."""
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield

SCHP_CONFIG = CONFIGS_DIR / 'parsing' / 'schp' / 'schp_ce2p_r101-d16_3xb16-150e_lip-473x473.py'
TINY_UNET = CONFIGS_DIR / 'parsing' / 'schp' / 'fcn_unet-tiny_75e_synthetic-64x64.py'
DEMO_CE2P = CONFIGS_DIR / 'demo' / 'parsing_ce2p-aspoc_r18-d16-tiny_1xb4-20e_synthetic-128x96.py'


def schp_lr(epoch, lr=7e-3, total=150, start_cyclical=100, cycle=10, warmup=10):
    """SCHP's SGDRScheduler.get_lr (utils/warmup_scheduler.py 49-55) with train.py 156-159's arguments."""
    eta_min, cyclical_base = lr / 100, lr / 2
    if epoch < warmup:
        return eta_min + epoch * (lr - eta_min) / warmup
    if epoch < start_cyclical:
        return eta_min + (lr - eta_min) * (1 + math.cos(math.pi * (epoch - warmup) / (start_cyclical - warmup))) / 2
    return eta_min + (cyclical_base - eta_min) * (1 + math.cos(math.pi * ((epoch - start_cyclical) % cycle) / cycle)) / 2


def _run_epochs(schedulers, optimizer, epochs):
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        for scheduler in schedulers:  # as mmengine's ParamSchedulerHook after each epoch
            scheduler.step()
    return lrs


def test_schp_config_with_the_hook_follows_schps_learning_rate_for_150_epochs():
    from mmengine.config import Config
    cfg = Config.fromfile(str(SCHP_CONFIG))
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=cfg.optim_wrapper.optimizer.lr)
    schedulers = [PARAM_SCHEDULERS.build(dict(s, optimizer=optimizer)) for s in cfg.param_scheduler]
    hook_cfg = cfg.default_hooks.self_correction
    hook = SelfCorrectionHook(**{k: v for k, v in hook_cfg.items() if k != 'type'})
    runner = SimpleNamespace(param_schedulers=schedulers, train_dataloader=range(100), optim_wrapper=optimizer)
    hook._install_cyclic_lr(runner, cfg.train_cfg.max_epochs)
    lrs = _run_epochs(runner.param_schedulers, optimizer, 150)
    assert lrs == pytest.approx([schp_lr(e) for e in range(150)], rel=1e-6)


def test_hook_cuts_an_iteration_based_schedule_at_the_first_cycle():
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.01)
    poly = PARAM_SCHEDULERS.build(dict(type='PolyLR', optimizer=optimizer, eta_min=0.0, power=0.9, begin=0,
                                       end=50, by_epoch=False))  # 10 epochs of 5 iterations
    runner = SimpleNamespace(param_schedulers=[poly], train_dataloader=range(5), optim_wrapper=optimizer)
    SelfCorrectionHook(start_epoch=6, cycle_epochs=2)._install_cyclic_lr(runner, 10)
    seen = []
    for epoch in range(10):
        for _ in range(5):
            seen.append((epoch, optimizer.param_groups[0]['lr']))
            optimizer.step()
            poly.step()
        runner.param_schedulers[1].step()
    during_cycles = [lr for epoch, lr in seen if epoch >= 6]
    # epochs 6, 7, 8, 9: cosine over 2 epochs from 0.005 to 0.0001: 0.005, 0.00255, 0.005, 0.00255
    expected_cycle = [0.005] * 5 + [0.0001 + 0.0049 * (1 + math.cos(math.pi / 2)) / 2] * 5
    assert during_cycles == pytest.approx(expected_cycle * 2)
    assert seen[0][1] == 0.01 and seen[28][1] > seen[29][1] > 0  # poly decays until the cycles take over


def test_cyclic_lr_refuses_a_zero_period():
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.01)
    with pytest.raises(LipToolkitError, match='period'):
        CyclicCosineLR(optimizer, period=0)


def test_average_weights_is_the_mean_of_the_snapshots_at_cycle_ends():
    torch.manual_seed(0)
    model, averaged = nn.Linear(3, 2), nn.Linear(3, 2)
    snapshots = []
    for cycles_done in range(4):
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.randn_like(p))
        snapshots.append([p.detach().clone() for p in model.parameters()])
        average_weights(averaged, model, cycles_done)
    for got, *values in zip(averaged.parameters(), *snapshots):
        assert torch.allclose(got, sum(values) / len(values), atol=1e-6)


def test_batch_norm_reestimation_is_the_size_weighted_mean_of_batch_statistics():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3, momentum=0.1))
    model[1].running_mean.fill_(7.0)
    batches = [torch.randn(4, 2, 5, 5) * 3 + 1, torch.randn(2, 2, 5, 5), torch.randn(3, 2, 5, 5) - 2]
    seen = reestimate_batch_norm(model, batches, lambda m, batch: m(batch), len)
    assert seen == 9
    with torch.no_grad():
        features = [model[0](batch) for batch in batches]
    means = [f.mean(dim=(0, 2, 3)) for f in features]
    variances = [f.transpose(0, 1).reshape(3, -1).var(dim=1, unbiased=True) for f in features]
    sizes = [len(b) for b in batches]
    expected_mean = sum(s * m for s, m in zip(sizes, means)) / sum(sizes)
    expected_var = sum(s * v for s, v in zip(sizes, variances)) / sum(sizes)
    assert torch.allclose(model[1].running_mean, expected_mean, atol=1e-5)
    assert torch.allclose(model[1].running_var, expected_var, atol=1e-4)
    assert model[1].momentum == 0.1 and not model.training


def test_refined_labels_by_hand():
    # one pixel, 3 classes, aggregated logits (1, 0, -1), label 2, one cycle done: a = 1/2
    logits = torch.tensor([1.0, 0.0, -1.0])[None, :, None, None]
    got = refined_soft_labels(logits, torch.tensor([[[2]]]), 0.5)[0, :, 0, 0]
    mixed = [0.5, 0.0, -0.5 + 0.5]
    expected = [math.exp(v) / sum(math.exp(w) for w in mixed) for v in mixed]
    assert got.tolist() == pytest.approx(expected)
    # an ignored pixel gets no one-hot part
    ignored = refined_soft_labels(logits, torch.tensor([[[255]]]), 0.5)[0, :, 0, 0]
    assert ignored.tolist() == pytest.approx(torch.softmax(torch.tensor([0.5, 0.0, -0.5]), 0).tolist())


def test_refined_labels_mixed_as_probabilities_by_hand():
    # aggregated model: probabilities (1/4, 3/4) over two classes, given label 0, one cycle done (a = 1/2)
    logits = torch.tensor([0.0, math.log(3.0)])[None, :, None, None]
    label = torch.tensor([[[0]]])
    got = refined_soft_labels(logits, label, 0.5, mixing='probabilities')[0, :, 0, 0]
    assert got.tolist() == pytest.approx([0.5 * 0.25 + 0.5, 0.5 * 0.75])   # the label keeps the argmax
    # SCHP's code mixes the logits: softmax(0.5 * (0, ln 3) + 0.5 * (1, 0)), and the model's class wins
    by_logits = refined_soft_labels(logits, label, 0.5)[0, :, 0, 0]
    mixed = [0.5, 0.5 * math.log(3.0)]
    assert by_logits.tolist() == pytest.approx([math.exp(v) / sum(math.exp(w) for w in mixed) for v in mixed])
    assert by_logits.argmax() == 1 and got.argmax() == 0
    # third aggregation (a = 1/4): the model's class wins once (3/4) * (3/4 - 1/4) > 1/4
    assert refined_soft_labels(logits, label, 0.25, mixing='probabilities')[0, :, 0, 0].tolist() == pytest.approx(
        [0.75 * 0.25 + 0.25, 0.75 * 0.75])
    # an ignored pixel: the model's share alone (masked out of every loss)
    ignored = refined_soft_labels(logits, torch.tensor([[[255]]]), 0.5, mixing='probabilities')[0, :, 0, 0]
    assert ignored.tolist() == pytest.approx([0.125, 0.375])
    with pytest.raises(LipToolkitError, match='label mixing'):
        refined_soft_labels(logits, label, 0.5, mixing='average')


def test_the_hook_passes_its_label_mixing_to_the_soft_term():
    runner = _tiny_segmentor_runner()
    hook = SelfCorrectionHook(start_epoch=4, cycle_epochs=3, label_mixing='probabilities')
    hook.before_run(runner)
    term = runner.model.decode_head.loss_decode
    scores, label = _scores_and_labels()
    term.soft_logits = torch.randn(2, 4, 3, 5, generator=torch.Generator().manual_seed(2))
    term.label_weight = 0.5
    target = 0.5 * torch.softmax(term.soft_logits, 1) + 0.5 * F.one_hot(torch.where(label == 255, 0, label), 4
                                                                        ).permute(0, 3, 1, 2)
    per_pixel = -(target * F.log_softmax(scores, 1)).sum(1) * (label != 255)
    expected = term.plain.loss_weight * per_pixel.sum() / (
        int((label != 255).sum()) if term.plain.avg_non_ignore else label.numel())
    assert float(term(scores, label, ignore_index=255)) == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize('avg_non_ignore', [False, True])
def test_refined_loss_is_the_plain_term_until_soft_labels_then_soft_cross_entropy(avg_non_ignore):
    torch.manual_seed(0)
    plain = CrossEntropyLoss(loss_weight=0.7, avg_non_ignore=avg_non_ignore)
    refined = RefinedLabelLoss(plain, scale=0.5)
    scores = torch.randn(2, 4, 3, 3)
    label = torch.randint(0, 4, (2, 3, 3))
    label[0, 0, 0] = 255
    assert torch.equal(refined(scores, label, ignore_index=255), plain(scores, label, ignore_index=255))
    assert refined.loss_name == 'loss_ce'
    refined.soft_logits = torch.randn(2, 4, 3, 3)
    refined.label_weight = 1 / 3
    target = refined_soft_labels(refined.soft_logits, label, 1 / 3)
    total, count = 0.0, 0
    for b in range(2):
        for i in range(3):
            for j in range(3):
                if label[b, i, j] == 255:
                    continue
                log_p = F.log_softmax(scores[b, :, i, j], dim=0)
                total += -float((target[b, :, i, j] * log_p).sum())
                count += 1
    denominator = count if avg_non_ignore else label.numel()
    got = refined(scores, label, ignore_index=255)
    assert float(got) == pytest.approx(0.5 * 0.7 * total / denominator, rel=1e-5)


CLASS_WEIGHT = [0.5, 2.0, 1.0, 3.0]


def _scores_and_labels(seed=0):
    generator = torch.Generator().manual_seed(seed)
    scores = torch.randn(2, 4, 3, 5, generator=generator)
    label = torch.randint(0, 4, (2, 3, 5), generator=generator)
    label[0, 0, :2] = 255
    label[1, 2, 4] = 255
    return scores, label


def test_class_weighted_soft_term_per_pixel_is_torchs_cross_entropy_with_probability_targets():
    scores, label = _scores_and_labels()
    plain = CrossEntropyLoss(loss_weight=0.7, reduction='none', class_weight=CLASS_WEIGHT)
    refined = RefinedLabelLoss(plain, scale=0.5)
    refined.soft_logits = torch.randn(2, 4, 3, 5, generator=torch.Generator().manual_seed(1))
    refined.label_weight = 1 / 3
    target = refined_soft_labels(refined.soft_logits, label, 1 / 3)
    got = refined(scores, label, ignore_index=255)
    # torch's own soft cross-entropy: -sum_c w_c q_c log p_c per pixel; MMSeg's 'none' leaves ignored pixels at 0
    expected = F.cross_entropy(scores, target, weight=torch.tensor(CLASS_WEIGHT), reduction='none')
    expected = 0.5 * 0.7 * expected * (label != 255)
    assert got.shape == plain(scores, label, ignore_index=255).shape == label.shape  # mmengine means it the same
    assert torch.allclose(got, expected, atol=1e-6)
    assert torch.count_nonzero(got[label == 255]) == 0 and torch.count_nonzero(got[label != 255]) == 27


def _one_hot_refined(plain, label):
    """A RefinedLabelLoss whose refined labels are exactly one-hot (the aggregated model sure of the label)."""
    refined = RefinedLabelLoss(plain)
    refined.soft_logits = 1000.0 * F.one_hot(torch.where(label == 255, 0, label), 4).permute(0, 3, 1, 2).float()
    refined.label_weight = 0.5
    target = refined_soft_labels(refined.soft_logits, label, 0.5)
    assert set(target.unique().tolist()) == {0.0, 1.0}
    return refined


@pytest.mark.parametrize('class_weight, reduction, avg_non_ignore, pixel_weight', [
    (class_weight, reduction, avg_non_ignore, pixel_weight)
    for class_weight in (None, CLASS_WEIGHT) for reduction in ('none', 'mean', 'sum')
    for avg_non_ignore in (False, True) for pixel_weight in (False, True)
    if not (class_weight and reduction == 'mean')])  # refused: test_class_weighted_mean_is_refused_in_one_line
def test_with_one_hot_soft_labels_the_term_is_mmsegs_cross_entropy(class_weight, reduction, avg_non_ignore,
                                                                     pixel_weight):
    scores, label = _scores_and_labels()
    weight = torch.rand(label.shape, generator=torch.Generator().manual_seed(2)) if pixel_weight else None
    plain = CrossEntropyLoss(loss_weight=0.7, reduction=reduction, class_weight=class_weight,
                             avg_non_ignore=avg_non_ignore)
    refined = _one_hot_refined(plain, label)
    expected = plain(scores, label, weight=weight, ignore_index=255)
    got = refined(scores, label, weight=weight, ignore_index=255)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-6, rtol=1e-5)


def test_with_one_hot_soft_labels_reduction_override_and_avg_factor_follow_mmseg():
    scores, label = _scores_and_labels()
    for class_weight, override, avg_factor in ((None, 'mean', None), (None, 'sum', None), (None, 'mean', 7.5),
                                               (CLASS_WEIGHT, 'mean', 7.5), (CLASS_WEIGHT, 'none', None)):
        plain = CrossEntropyLoss(reduction='sum' if override == 'none' else 'none', class_weight=class_weight)
        refined = _one_hot_refined(plain, label)
        kwargs = dict(reduction_override=override, avg_factor=avg_factor, ignore_index=255)
        assert torch.allclose(refined(scores, label, **kwargs), plain(scores, label, **kwargs), atol=1e-6)


def test_class_weighted_mean_is_refused_in_one_line():
    # MMSeg 1.2.2 divides this mean by the class weights of the hard labels and fails on any ignored pixel
    scores, label = _scores_and_labels()
    with pytest.raises(IndexError):
        CrossEntropyLoss(class_weight=CLASS_WEIGHT)(scores, label, ignore_index=255)
    with pytest.raises(LipToolkitError, match="reduction='none'") as refused:
        RefinedLabelLoss(CrossEntropyLoss(class_weight=CLASS_WEIGHT))
    assert '\n' not in str(refused.value)
    refined = RefinedLabelLoss(CrossEntropyLoss(class_weight=CLASS_WEIGHT, reduction='none'))
    refined.soft_logits = torch.zeros(2, 4, 3, 5)
    with pytest.raises(LipToolkitError, match="reduction='mean'"):
        refined(scores, label, reduction_override='mean', ignore_index=255)
    runner = _tiny_segmentor_runner()
    runner.model.decode_head.loss_decode = CrossEntropyLoss(class_weight=CLASS_WEIGHT)
    with pytest.raises(LipToolkitError, match='class-weighted'):
        SelfCorrectionHook(start_epoch=4, cycle_epochs=3).before_run(runner)


def test_checkpoint_round_trip_restores_cycles_and_aggregated_weights():
    hook = SelfCorrectionHook(start_epoch=1, cycle_epochs=1)
    hook.averaged, hook.cycles = nn.BatchNorm1d(3), 2
    hook.averaged.running_mean.fill_(0.25)
    checkpoint = {}
    hook.before_save_checkpoint(None, checkpoint)
    restored = SelfCorrectionHook(start_epoch=1, cycle_epochs=1)
    restored.averaged = nn.BatchNorm1d(3)
    restored.after_load_checkpoint(None, checkpoint)
    assert restored.cycles == 2
    assert torch.equal(restored.averaged.running_mean, torch.full((3,), 0.25))
    fresh = {}
    SelfCorrectionHook(start_epoch=1, cycle_epochs=1).before_save_checkpoint(None, fresh)
    assert fresh[CHECKPOINT_KEY] == dict(cycles=0)


def test_bad_settings_are_one_line_errors():
    with pytest.raises(LipToolkitError, match='at least 1'):
        SelfCorrectionHook(start_epoch=0, cycle_epochs=5)
    with pytest.raises(LipToolkitError, match='final_weights'):
        SelfCorrectionHook(start_epoch=1, cycle_epochs=1, final_weights='best')
    with pytest.raises(LipToolkitError, match='label_mixing'):
        SelfCorrectionHook(start_epoch=1, cycle_epochs=1, label_mixing='labels')


# ---- the switch on real trainings (slow: several tiny trainings in subprocesses) --------------------------------
# A deterministic tiny run: the 64x64 UNet at 32x32 and 8 channels, no random scale or flip, so that a resumed run
# can be compared with an uninterrupted one weight for weight (mmengine reseeds, it does not restore RNG states).
TINY_OPTIONS = [
    'train_cfg.max_epochs=4', 'train_cfg.val_interval=5', 'param_scheduler.0.end=4',
    'default_hooks.checkpoint.interval=1', 'default_hooks.checkpoint.max_keep_ckpts=5',
    'train_dataloader.batch_size=8', 'crop_size=(32,32)', 'model.data_preprocessor.size=(32,32)',
    'train_dataloader.dataset.pipeline.2.crop_size=(32,32)', 'train_dataloader.dataset.pipeline.2.scale_factor=0.0',
    'train_dataloader.dataset.pipeline.3.prob=0.0', 'model.backbone.base_channels=8',
    'model.decode_head.in_channels=8', 'model.decode_head.channels=8',
    'default_hooks.self_correction.type=SelfCorrectionHook', 'default_hooks.self_correction.start_epoch=2',
    'default_hooks.self_correction.cycle_epochs=1',
]


def _lip_toolkit_args(data_root, work_dir, *extra, epochs=4):
    options = [f'train_cfg.max_epochs={epochs}' if o.startswith('train_cfg.max_epochs=') else o for o in TINY_OPTIONS]
    return ['train', TINY_UNET, '--data-root', data_root, '--work-dir', work_dir, *extra, '--cfg-options', *options]


def _env():
    return dict(os.environ, OMP_NUM_THREADS='1', LIP_TOOLKIT_QUIET='1')


def _run(args, timeout=900):
    done = subprocess.run([sys.executable, '-m', 'lip_toolkit', *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=_env())
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


@pytest.mark.slow
def test_sigkilled_self_correction_run_resumes_exactly(synthetic_lip, tmp_path):
    straight = tmp_path / 'straight'
    _run(_lip_toolkit_args(synthetic_lip, straight))

    killed = tmp_path / 'killed'
    process = subprocess.Popen([sys.executable, '-m', 'lip_toolkit',
                                *map(str, _lip_toolkit_args(synthetic_lip, killed))], env=_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    # kill in epoch 3, after the checkpoint of epoch 2 (the first aggregation, at start_epoch: aggregated weights)
    while not ((killed / 'last_checkpoint').exists()
               and (killed / 'last_checkpoint').read_text().strip().endswith('epoch_2.pth')):
        assert process.poll() is None, 'training ended before epoch 2'
        assert time.time() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (killed / 'epoch_4.pth').exists()
    _run(_lip_toolkit_args(synthetic_lip, killed, '--resume'))

    a, b = _load(straight / 'epoch_4.pth'), _load(killed / 'epoch_4.pth')
    assert a[CHECKPOINT_KEY]['cycles'] == 3
    _assert_same_run(a, b)
    # the final model holds the aggregated weights
    for key, value in a[CHECKPOINT_KEY]['state_dict'].items():
        assert torch.equal(value, a['state_dict'][key]), key


def _assert_same_run(a, b):
    assert a[CHECKPOINT_KEY]['cycles'] == b[CHECKPOINT_KEY]['cycles']
    for key, value in a['state_dict'].items():
        assert torch.allclose(value.float(), b['state_dict'][key].float(), atol=1e-6), key
    for key, value in a[CHECKPOINT_KEY]['state_dict'].items():
        assert torch.allclose(value.float(), b[CHECKPOINT_KEY]['state_dict'][key].float(), atol=1e-6), key


@pytest.mark.slow
def test_two_gloo_ranks_each_refine_their_share_and_resume_exactly(synthetic_lip, tmp_path):
    straight = tmp_path / 'straight'
    _run(_lip_toolkit_args(synthetic_lip, straight, '--gpus', '2', epochs=3))
    log = '\n'.join(p.read_text() for p in sorted(straight.glob('*/*.log')))
    assert 'Distributed training: True' in log
    # 64 training images, two ranks: each re-estimates BatchNorm on its 32 (the log is rank 0's)
    assert 'aggregation 1 at the end of epoch 2: weights averaged, BatchNorm re-estimated on 32 samples' in log
    first = _load(straight / 'epoch_2.pth')
    assert first[CHECKPOINT_KEY]['cycles'] == 1
    # resume the two-rank run from its epoch-2 checkpoint in another folder: the third epoch (refined labels from
    # the aggregated model, second aggregation) must come out as in the uninterrupted run
    resumed = tmp_path / 'resumed'
    _run(_lip_toolkit_args(synthetic_lip, resumed, '--gpus', '2', '--resume-from', straight / 'epoch_2.pth',
                           epochs=3))
    a, b = _load(straight / 'epoch_3.pth'), _load(resumed / 'epoch_3.pth')
    assert a[CHECKPOINT_KEY]['cycles'] == 2
    _assert_same_run(a, b)


def _tiny_segmentor_runner(max_epochs=10):
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmseg.registry import MODELS
    cfg = Config.fromfile(str(TINY_UNET))
    model = MODELS.build(cfg.model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    return SimpleNamespace(model=model, train_loop=SimpleNamespace(max_epochs=max_epochs), param_schedulers=[],
                           train_dataloader=range(3), optim_wrapper=optimizer,
                           logger=MMLogger.get_instance('test_self_correction'))


def test_before_run_wraps_the_cross_entropy_terms_and_copies_the_model():
    runner = _tiny_segmentor_runner()
    hook = SelfCorrectionHook(start_epoch=4, cycle_epochs=3)
    hook.before_run(runner)
    assert isinstance(runner.model.decode_head.loss_decode, RefinedLabelLoss)
    assert hook.refined_losses == [runner.model.decode_head.loss_decode]
    assert hook.averaged is not runner.model and not hook.averaged.training
    assert not any(p.requires_grad for p in hook.averaged.parameters())
    assert isinstance(runner.param_schedulers[-1], CyclicCosineLR) and runner.param_schedulers[-1].begin == 4
    with pytest.raises(LipToolkitError, match='no complete cycle'):
        SelfCorrectionHook(start_epoch=8, cycle_epochs=3).before_run(_tiny_segmentor_runner())


def test_aggregations_at_start_epoch_and_every_cycle_after_it_as_in_schps_train_py():
    runner = _tiny_segmentor_runner(max_epochs=150)
    runner.train_dataloader = []  # nothing to re-estimate BatchNorm on: only the timing is under test
    hook = SelfCorrectionHook(start_epoch=100, cycle_epochs=10, cyclic_lr=False)
    hook.before_run(runner)
    aggregated_at = []
    for epoch in range(150):
        runner.epoch = epoch
        before = hook.cycles
        hook.after_train_epoch(runner)
        if hook.cycles != before:
            aggregated_at.append(epoch + 1)
    # SCHP train.py 211 (schp_start=100, cycle_epochs=10): aggregate when (epoch + 1) >= schp_start and
    # (epoch + 1 - schp_start) % cycle_epochs == 0; its cycle_n then weights the labels 1 / (cycle_n + 1)
    assert aggregated_at == [e + 1 for e in range(150) if e + 1 >= 100 and (e + 1 - 100) % 10 == 0]
    assert aggregated_at[0] == 100 and hook.cycles == 6


@pytest.fixture(scope='module')
def eight_image_lip(tmp_path_factory):
    from lip_toolkit.synthetic import synthesize_lip
    root = tmp_path_factory.mktemp('lip8')
    synthesize_lip(root, train=8, val=1, test=1, seed=0)
    return root


def _train_demo_ce2p(data_root, work_dir, refine_labels):
    from lip_toolkit.core.runner import train
    options = {'train_cfg.max_epochs': 2, 'train_cfg.val_interval': 10, 'default_hooks.logger.interval': 1,
               'default_hooks.self_correction.type': 'SelfCorrectionHook',
               'default_hooks.self_correction.start_epoch': 1, 'default_hooks.self_correction.cycle_epochs': 1,
               'default_hooks.self_correction.refine_labels': refine_labels}
    work = train(DEMO_CE2P, work_dir=work_dir, data_root=data_root, cfg_options=options, quiet=True)
    logged = [json.loads(line) for line in next(work.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    losses = {(entry['epoch'], entry['iter']): entry['decode.loss_ce_fused'] for entry in logged if 'epoch' in entry}
    return losses, _load(work / 'epoch_2.pth')


def test_demo_ce2p_config_with_class_weighted_ce_trains_on_refined_labels(eight_image_lip, tmp_path):
    # the demo's CE2P config: class-weighted CrossEntropyLoss with reduction='none' on both parsing outputs
    soft, soft_checkpoint = _train_demo_ce2p(eight_image_lip, tmp_path / 'soft', True)
    hard, hard_checkpoint = _train_demo_ce2p(eight_image_lip, tmp_path / 'hard', False)
    assert soft_checkpoint[CHECKPOINT_KEY]['cycles'] == hard_checkpoint[CHECKPOINT_KEY]['cycles'] == 2
    first_epoch = [key for key in soft if key[0] == 1]
    second_epoch = [key for key in soft if key[0] == 2]
    assert len(first_epoch) == len(second_epoch) == 2  # 8 images, batch 4
    # same seed: the same first epoch; after the first aggregation the refined labels change every loss
    assert [soft[key] for key in first_epoch] == [hard[key] for key in first_epoch]
    assert all(abs(soft[key] - hard[key]) > 1e-3 for key in second_epoch)
