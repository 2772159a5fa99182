"""CE2P head, OCNet modules, the class-balanced edge loss and the dilated SCNet on small hand-made inputs."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.datasets.transforms import GenerateEdge
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from lip_toolkit.parsing.models import (ASPOCContext, BaseOCContext, CE2PHead, ClassBalancedEdgeLoss,
                                        ObjectContextBlock, class_balanced_edge_weights, edge_map_from_labels)

init_default_scope('mmseg')

TINY_STAGES = [8, 16, 32, 64]


pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


def tiny_ce2p_head(context=None, **kwargs):
    return CE2PHead(in_channels=TINY_STAGES, channels=16, context=context or dict(type='PSPContext', channels=24,
                    pool_channels=8), skip_channels=6, edge_channels=10, num_classes=20,
                    norm_cfg=dict(type='BN'), **kwargs)


def tiny_stages(batch=2, size=32):
    torch.manual_seed(0)
    strides = [4, 8, 16, 16]  # CE2P's dilated ResNet: output stride 16
    return [torch.randn(batch, c, size // s, size // s) for c, s in zip(TINY_STAGES, strides)]


def data_sample(label, edge=None):
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.as_tensor(label)[None].long())
    if edge is not None:
        sample.gt_edge_map = PixelData(data=torch.as_tensor(edge)[None].long())
    return sample


def test_ce2p_forward_returns_decoder_fused_and_edge_logits_at_stride_4():
    head = tiny_ce2p_head()
    seg1, seg2, edge = head(tiny_stages())
    assert seg1.shape == seg2.shape == (2, 20, 8, 8)
    assert edge.shape == (2, 2, 8, 8)
    # the two parsing outputs come from different classifiers
    assert not torch.allclose(seg1, seg2)


def test_ce2p_structure_follows_the_reference_channels():
    head = tiny_ce2p_head()
    assert head.skip_reduce.conv.in_channels == 8 and head.skip_reduce.conv.out_channels == 6
    assert head.decoder[0].conv.in_channels == 16 + 6  # upsampled context + skip (CE2P: 256 + 48)
    assert [m.conv.in_channels for m in head.edge_reduce] == [8, 16, 32]  # edge branch reads stages 1-3
    assert head.edge_classifier.kernel_size == (3, 3) and head.edge_classifier.out_channels == 2
    assert head.edge_fuse.in_channels == 6
    assert head.fusion.conv.in_channels == 16 + 3 * 10  # decoder + edge features (CE2P: 256 + 768)
    # BN + LeakyReLU(0.01) in place of InPlaceABN
    assert isinstance(head.fusion.activate, torch.nn.LeakyReLU)
    assert head.fusion.activate.negative_slope == 0.01
    assert isinstance(head.fusion.bn, torch.nn.BatchNorm2d)


def test_ce2p_predict_uses_the_fused_output_resized_to_the_image():
    head = tiny_ce2p_head().eval()
    stages = tiny_stages(batch=1)
    with torch.no_grad():
        _, seg2, _ = head(stages)
        predicted = head.predict(stages, [dict(img_shape=(32, 32))], dict())
    expected = F.interpolate(seg2, size=(32, 32), mode='bilinear', align_corners=True)
    torch.testing.assert_close(predicted, expected)


def test_ce2p_loss_has_both_parsing_terms_and_the_edge_term():
    head = tiny_ce2p_head()
    label = torch.zeros(32, 32, dtype=torch.long)
    label[8:24, 8:24] = 5
    label[:, :2] = 255
    losses = head.loss(tiny_stages(batch=2), [data_sample(label), data_sample(label)], dict())
    assert set(losses) == {'loss_ce_decoder', 'loss_ce_fused', 'loss_edge', 'acc_seg'}
    total = losses['loss_ce_decoder'] + losses['loss_ce_fused'] + losses['loss_edge']
    total.backward()
    assert head.decoder_seg.weight.grad.abs().sum() > 0  # seg1 is supervised
    assert head.conv_seg.weight.grad.abs().sum() > 0  # seg2 is supervised
    assert head.edge_fuse.weight.grad.abs().sum() > 0  # the edge logits are supervised


def test_ce2p_loss_prefers_the_pipelines_edge_map_over_labels():
    head = tiny_ce2p_head()
    label = torch.zeros(32, 32, dtype=torch.long)
    label[8:24, 8:24] = 5
    given = torch.zeros(32, 32, dtype=torch.long)
    given[:, :16] = 1  # deliberately unlike the label's edges
    samples = [data_sample(label, given)] * 2
    stages = tiny_stages(batch=2)
    torch.manual_seed(1)
    seg1, seg2, edge = head(stages)
    with_given = head.loss_by_feat((seg1, seg2, edge), samples)['loss_edge']
    derived = head.loss_by_feat((seg1, seg2, edge), [data_sample(label)] * 2)['loss_edge']
    up = F.interpolate(edge, size=(32, 32), mode='bilinear', align_corners=True)
    torch.testing.assert_close(with_given, ClassBalancedEdgeLoss()(up, given[None].expand(2, -1, -1)))
    derived_edges = edge_map_from_labels(label[None].expand(2, -1, -1))
    torch.testing.assert_close(derived, ClassBalancedEdgeLoss()(up, derived_edges))
    assert not torch.allclose(with_given, derived)


def test_edge_weights_balance_the_classes_of_the_batch():
    # 2 images, 16 labelled pixels in all: 4 edge, 12 not edge, plus ignored pixels that must not count
    edge = torch.zeros(2, 3, 4, dtype=torch.long)
    edge[0, 0, :2] = 1
    edge[1, 2, 2:] = 1
    edge[0, 2, :] = 255
    edge[1, 0, :] = 255
    weights = class_balanced_edge_weights(edge)
    torch.testing.assert_close(weights, torch.tensor([4 / 16, 12 / 16]))


def test_edge_loss_is_the_weighted_mean_cross_entropy():
    torch.manual_seed(0)
    edge = torch.zeros(2, 3, 4, dtype=torch.long)
    edge[0, 0, :2] = 1
    edge[1, 2, 2:] = 1
    edge[0, 2, :] = 255
    logits = torch.randn(2, 2, 3, 4)
    loss = ClassBalancedEdgeLoss(loss_weight=2.0)(logits, edge)
    # independent computation: sum_i w_{y_i} * -log p_i(y_i) / sum_i w_{y_i} over labelled pixels
    valid = edge != 255
    num_edge = float((edge[valid] == 1).sum())
    num = float(valid.sum())
    w = {0: num_edge / num, 1: (num - num_edge) / num}
    log_p = logits.log_softmax(dim=1)
    numerator = denominator = 0.0
    for b, i, j in zip(*torch.nonzero(valid, as_tuple=True)):
        y = int(edge[b, i, j])
        numerator += -w[y] * float(log_p[b, y, i, j])
        denominator += w[y]
    assert float(loss) == pytest.approx(2.0 * numerator / denominator, rel=1e-5)


def test_edge_loss_of_a_batch_without_edges_is_zero_not_nan():
    logits = torch.randn(1, 2, 4, 4, requires_grad=True)
    loss = ClassBalancedEdgeLoss()(logits, torch.zeros(1, 4, 4, dtype=torch.long))
    assert float(loss) == 0.0
    loss.backward()


def test_edge_map_from_labels_matches_mmseg_generate_edge():
    rng = np.random.default_rng(0)
    label = cv2.resize(rng.integers(0, 20, (6, 5)).astype(np.uint8), (23, 29), interpolation=cv2.INTER_NEAREST)
    label[:4, :] = 255
    label[10:12, 3:9] = 255
    reference = GenerateEdge(edge_width=3)(dict(img_shape=label.shape, gt_seg_map=label))['gt_edge_map']
    ours = edge_map_from_labels(torch.from_numpy(label)[None])[0].numpy()
    np.testing.assert_array_equal(ours, reference)
    assert 0 < ours.mean() < 1


def test_object_context_starts_as_zero_and_attends_once_trained():
    block = ObjectContextBlock(6, 6, key_channels=4, value_channels=5, pool_scale=2)
    x = torch.randn(2, 6, 8, 8)
    assert torch.count_nonzero(block(x)) == 0  # zero-initialised output projection, as in OCNet
    torch.nn.init.normal_(block.out_project.weight)
    out = block(x)
    assert out.shape == (2, 6, 8, 8) and torch.count_nonzero(out) > 0
    # query and key share one projection
    assert not hasattr(block, 'query')


def test_object_context_is_softmax_attention_with_shared_key_query():
    block = ObjectContextBlock(3, 2, key_channels=4, value_channels=5).eval()
    torch.nn.init.normal_(block.out_project.weight)
    x = torch.randn(1, 3, 2, 3)
    with torch.no_grad():
        key = block.key_query(x).flatten(2)[0]  # 4 x N
        value = block.value(x).flatten(2)[0]  # 5 x N
        attention = torch.softmax(key.t() @ key / 2.0, dim=-1)  # key_channels ** -0.5 = 1/2
        context = (attention @ value.t()).t().reshape(1, 5, 2, 3)
        expected = block.out_project(context)
        torch.testing.assert_close(block(x), expected)


@pytest.mark.parametrize('context_cls, kwargs', [
    (BaseOCContext, dict(channels=12, key_channels=6, value_channels=6)),
    (ASPOCContext, dict(channels=12, branch_channels=4, key_channels=2, value_channels=4, dilations=(1, 2, 3))),
])
def test_oc_contexts_keep_the_map_size_and_report_their_channels(context_cls, kwargs):
    context = context_cls(in_channels=16, **kwargs)
    out = context(torch.randn(2, 16, 9, 7))
    assert out.shape == (2, context.out_channels, 9, 7) == (2, 12, 9, 7)


def test_aspoc_has_five_branches_like_ocnet():
    context = ASPOCContext(in_channels=16, channels=12, branch_channels=4, key_channels=2, value_channels=4)
    assert [b.conv.dilation for b in context.atrous_branches] == [(12, 12), (24, 24), (36, 36)]
    assert context.fuse[0].conv.in_channels == 5 * 4
    assert context.context_branch[1].object_context.pool_scale == 2


@pytest.mark.parametrize('head_type', ['BaseOCHead', 'ASPOCHead'])
def test_oc_decode_heads_train_as_plain_mmseg_heads(head_type):
    head = MODELS.build(dict(type=head_type, in_channels=16, channels=8, num_classes=20,
                             context=dict(key_channels=4, value_channels=4)))
    logits = head([torch.randn(2, 16, 8, 8)])
    assert logits.shape == (2, 20, 8, 8)
    label = torch.randint(0, 20, (32, 32))
    losses = head.loss([torch.randn(2, 16, 8, 8)], [data_sample(label)] * 2, dict())
    losses['loss_ce'].backward()


def test_ce2p_takes_an_oc_context_in_place_of_psp():
    head = tiny_ce2p_head(context=dict(type='ASPOCContext', channels=12, branch_channels=4, key_channels=2,
                                       value_channels=4, dilations=(1, 2, 3)))
    assert isinstance(head.context, ASPOCContext)
    assert head.context_reduce.conv.in_channels == 12
    seg1, seg2, edge = head(tiny_stages())
    assert seg2.shape == (2, 20, 8, 8)


def test_dilated_scnet_dilates_its_stride_1_stage():
    from lip_toolkit.parsing.models import DilatedSCNet
    net = DilatedSCNet(depth=50, base_channels=8, stem_channels=16, deep_stem=True, out_indices=(0, 1, 2, 3),
                       strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2))
    net.eval()
    outs = net(torch.randn(1, 3, 64, 64))
    assert [o.shape[-1] for o in outs] == [16, 8, 4, 4]  # output stride 16
    layer4_3x3 = [m for m in net.layer4.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    layer3_3x3 = [m for m in net.layer3.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert layer4_3x3 and all(m.dilation == (2, 2) and m.padding == (2, 2) for m in layer4_3x3)
    assert all(m.dilation == (1, 1) for m in layer3_3x3)


def test_backbone_imagenet_weights_come_from_the_local_file_the_config_names(tmp_path):
    from mmengine.config import Config

    from lip_toolkit.core.checkpoint import install_mmengine_checkpoint_loader
    install_mmengine_checkpoint_loader()
    repo = Path(__file__).resolve().parents[2]
    cfg = Config.fromfile(str(repo / 'configs/demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py'))
    torch.manual_seed(0)
    weights = MODELS.build(cfg.model.backbone).state_dict()
    weights = {k: torch.randn_like(v.float()).to(v.dtype) if v.is_floating_point() else v for k, v in weights.items()}
    path = tmp_path / 'imagenet_r18_tiny.pth'
    torch.save({'state_dict': weights}, path)
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=str(path))
    model = MODELS.build(cfg.model)
    model.init_weights()
    for key, value in model.backbone.state_dict().items():
        torch.testing.assert_close(value, weights[key])


def test_tiny_ce2p_traces_for_export_with_plain_modules_only():
    from mmengine.config import Config
    repo = Path(__file__).resolve().parents[2]
    cfg = Config.fromfile(str(repo / 'configs/demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py'))
    model = MODELS.build(cfg.model).eval()
    norms = [m for m in model.modules() if 'Norm' in type(m).__name__]
    assert norms and all(type(m) is torch.nn.BatchNorm2d for m in norms)
    head_acts = [m for m in model.decode_head.modules() if isinstance(m, (torch.nn.ReLU, torch.nn.LeakyReLU))]
    assert head_acts and all(isinstance(m, torch.nn.LeakyReLU) and m.negative_slope == 0.01 for m in head_acts)

    class TensorForward(torch.nn.Module):
        def __init__(self, segmentor):
            super().__init__()
            self.segmentor = segmentor

        def forward(self, x):
            return self.segmentor(x, mode='tensor')

    wrapper = TensorForward(model)
    x = torch.randn(1, 3, 64, 48)
    with torch.no_grad():
        traced = torch.jit.trace(wrapper, x, check_trace=False)
        for expected, got in zip(wrapper(x), traced(x)):
            torch.testing.assert_close(got, expected)


DEMO_CONFIGS = sorted(p.name for p in (Path(__file__).resolve().parents[2] / 'configs' / 'demo').glob('parsing_*.py'))


@pytest.mark.parametrize('config_name', DEMO_CONFIGS)
def test_demo_configs_take_a_training_step_on_synthetic_lip(config_name, synthetic_lip):
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmseg.registry import DATASETS
    cfg = Config.fromfile(str(Path(__file__).resolve().parents[2] / 'configs' / 'demo' / config_name))
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.data_root = str(synthetic_lip)
    dataset = DATASETS.build(dataset_cfg)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    batch = model.data_preprocessor(pseudo_collate([dataset[i] for i in range(4)]), True)
    assert 'gt_edge_map' in batch['data_samples'][0]  # the pipeline's CE2P edges reach the model
    losses = model(**batch, mode='loss')
    total, _ = model.parse_losses(losses)  # the host's reduction, as training applies it
    assert torch.isfinite(total)
    total.backward()
