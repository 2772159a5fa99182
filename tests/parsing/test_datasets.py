"""LIPParsingDataset on release-layout trees (flat and doubly nested), the base config's pipelines, and the
evaluation path: logits resized to the original size by MMSeg's postprocess, scored by LIPMIoUMetric."""
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.core.paths import CONFIGS_DIR
from lip_toolkit.parsing.classes import LIP_CLASSES
from lip_toolkit.parsing.datasets import LIPParsingDataset

BASE_CONFIG = CONFIGS_DIR / '_base_' / 'datasets' / 'lip_parsing.py'
SIZES = {'train': [(40, 30), (36, 50), (60, 44)], 'val': [(48, 32), (30, 30)], 'test': [(20, 24)]}


def write_lip_tree(root, nested=False):
    """A tiny LIP release: person-like label maps and matching images, id lists in a shuffled order."""
    rng = np.random.default_rng(0)
    top = (lambda name: root / name / name) if nested else (lambda name: root / name)
    layout = {'train': ('TrainVal_images', 'train_images', 'train_id.txt', 'train_segmentations'),
              'val': ('TrainVal_images', 'val_images', 'val_id.txt', 'val_segmentations'),
              'test': ('Testing_images', 'testing_images', 'test_id.txt', None)}
    ids = {}
    for split, (folder, images, id_name, segs) in layout.items():
        (top(folder) / images).mkdir(parents=True, exist_ok=True)
        ids[split] = [f'{100 + i * 7}_{i}' for i in range(len(SIZES[split]))][::-1]
        (top(folder) / id_name).write_text(''.join(f'{i}\n' for i in ids[split]))
        for image_id, (h, w) in zip(ids[split], SIZES[split]):
            label = np.zeros((h, w), np.uint8)
            label[h // 4:3 * h // 4, w // 4:3 * w // 4] = rng.integers(1, 20)
            label[h // 4:h // 2, w // 4:w // 2] = 14
            image = np.dstack([label * 10] * 3).astype(np.uint8)
            cv2.imwrite(str(top(folder) / images / f'{image_id}.jpg'), image)
            if segs:
                (top('TrainVal_parsing_annotations') / segs).mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(top('TrainVal_parsing_annotations') / segs / f'{image_id}.png'), label)
    return ids


@pytest.fixture(scope='module')
def lip_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp('lip')
    return root, write_lip_tree(root)


@pytest.mark.parametrize('nested, lists_outside', [(False, False), (True, False), (True, True)])
def test_splits_follow_id_lists(tmp_path, nested, lists_outside):
    ids = write_lip_tree(tmp_path, nested=nested)
    if lists_outside:  # nested folders, id lists one level up (beside the inner folder)
        for top, name in (('TrainVal_images', 'train_id.txt'), ('TrainVal_images', 'val_id.txt'),
                          ('Testing_images', 'test_id.txt')):
            (tmp_path / top / top / name).rename(tmp_path / top / name)
    for split in ('train', 'val', 'test'):
        dataset = LIPParsingDataset(data_root=str(tmp_path), split=split)
        assert len(dataset) == len(ids[split])
        infos = [dataset.get_data_info(i) for i in range(len(dataset))]
        names = [info['img_path'].rsplit('/', 1)[1][:-4] for info in infos]
        assert names == ids[split]  # id-list order, not folder order
        for info in infos:
            assert ('seg_map_path' in info) == (split != 'test')
            if split != 'test':
                assert info['seg_map_path'].endswith(info['img_path'].rsplit('/', 1)[1][:-4] + '.png')
    assert dataset.metainfo['classes'] == LIP_CLASSES


def test_missing_files_and_folders_are_clear_errors(tmp_path):
    ids = write_lip_tree(tmp_path)
    (tmp_path / 'TrainVal_parsing_annotations' / 'val_segmentations' / f'{ids["val"][1]}.png').unlink()
    with pytest.raises(LipToolkitError, match=f'1 of 2 annotations listed in val_id.txt are missing, first: '
                                              f'{ids["val"][1]}.png'):
        LIPParsingDataset(data_root=str(tmp_path), split='val')
    with pytest.raises(LipToolkitError, match='unknown split'):
        LIPParsingDataset(data_root=str(tmp_path), split='trainval')
    (tmp_path / 'Testing_images' / 'test_id.txt').unlink()
    with pytest.raises(LipToolkitError, match='no test_id.txt'):
        LIPParsingDataset(data_root=str(tmp_path), split='test')
    with pytest.raises(LipToolkitError, match='data root not found'):
        LIPParsingDataset(data_root=str(tmp_path / 'nowhere'), split='train')


def _dataset_from_config(root, split, pipeline_key):
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    init_default_scope('mmseg')  # as the runner does with the configs' default_scope
    cfg = Config.fromfile(str(BASE_CONFIG))
    return DATASETS.build(dict(type=cfg.dataset_type, data_root=str(root), split=split,
                               pipeline=cfg[pipeline_key]))


def test_train_pipeline_gives_crops_labels_and_edges(lip_tree):
    root, _ = lip_tree
    np.random.seed(0)
    dataset = _dataset_from_config(root, 'train', 'train_pipeline')
    for index in range(len(dataset)):
        item = dataset[index]
        sample = item['data_samples']
        assert tuple(item['inputs'].shape) == (3, 473, 473)
        seg = sample.gt_sem_seg.data
        assert tuple(seg.shape) == (1, 473, 473)
        assert set(torch.unique(seg).tolist()) <= set(range(20)) | {255}
        assert (seg == 255).any()  # padding around the aspect-preserving warp
        edge = sample.gt_edge_map.data
        assert tuple(edge.shape) == (1, 473, 473) and set(torch.unique(edge).tolist()) <= {0, 1}
        assert edge.sum() > 0


def test_test_pipeline_keeps_ground_truth_at_original_size(lip_tree):
    root, ids = lip_tree
    dataset = _dataset_from_config(root, 'val', 'test_pipeline')
    for index, (h, w) in enumerate(SIZES['val']):
        sample = dataset[index]['data_samples']
        assert tuple(dataset[index]['inputs'].shape) == (3, 473, 473)
        assert tuple(sample.gt_sem_seg.data.shape) == (1, h, w)
        assert tuple(sample.ori_shape) == (h, w)
    predict = _dataset_from_config(root, 'test', 'predict_pipeline')
    assert tuple(predict[0]['data_samples'].ori_shape) == SIZES['test'][0]


def test_mmseg_postprocess_resizes_logits_to_original_size_for_the_metric(lip_tree):
    """The path val/test scoring takes: 473x473 logits -> EncoderDecoder.postprocess_result -> LIPMIoUMetric."""
    from mmseg.models.segmentors import EncoderDecoder
    from mmseg.registry import METRICS
    from lip_toolkit.parsing.metrics import confusion_matrix, miou_from_confusion
    root, _ = lip_tree
    dataset = _dataset_from_config(root, 'val', 'test_pipeline')
    metric = METRICS.build(Config.fromfile(str(BASE_CONFIG)).val_evaluator)
    metric.dataset_meta = dataset.metainfo
    segmentor = SimpleNamespace(align_corners=False)   # all postprocess_result reads for C > 1
    total = np.zeros((20, 20), np.int64)
    for index in range(len(dataset)):
        sample = dataset[index]['data_samples']
        gt = sample.gt_sem_seg.data[0].numpy()
        # logits a perfect model would give on the 473x473 input: one-hot of the resized ground truth
        resized = cv2.resize(gt, (473, 473), interpolation=cv2.INTER_NEAREST).astype(np.int64)
        resized[resized == 255] = 0
        logits = torch.nn.functional.one_hot(torch.as_tensor(resized), 20).permute(2, 0, 1)[None].float()
        [out] = EncoderDecoder.postprocess_result(segmentor, logits, [sample])
        pred = out.pred_sem_seg.data
        assert tuple(pred.shape[-2:]) == gt.shape   # back at the original size before the argmax
        total += confusion_matrix(gt, pred[0].numpy())
        metric.process({}, [out.to_dict()])
    result = metric.evaluate(len(dataset))
    assert result['mIoU'] == miou_from_confusion(total)['mIoU']
    assert result['pixel_acc'] > 95.0   # near-perfect: only resampling at region borders differs


def test_metric_refuses_ground_truth_loaded_before_resize(lip_tree):
    from mmseg.models.segmentors import EncoderDecoder
    from mmseg.registry import DATASETS
    from lip_toolkit.parsing.metrics import LIPMIoUMetric
    root, _ = lip_tree
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    wrong = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
             dict(type='Resize', scale=(64, 64), keep_ratio=False), dict(type='PackSegInputs')]
    dataset = DATASETS.build(dict(type='LIPParsingDataset', data_root=str(root), split='val', pipeline=wrong))
    sample = dataset[0]['data_samples']
    [out] = EncoderDecoder.postprocess_result(SimpleNamespace(align_corners=False), torch.zeros(1, 20, 64, 64),
                                              [sample])
    metric = LIPMIoUMetric()
    metric.dataset_meta = dataset.metainfo
    with pytest.raises(LipToolkitError, match='original size'):
        metric.process({}, [out.to_dict()])


def test_synthetic_release_loads(synthetic_lip):
    dataset = LIPParsingDataset(data_root=str(synthetic_lip), split='val')
    assert len(dataset) == 24
