"""CIHP and MHP v2 -> LIP single-person samples, on small trees written in each dataset's real layout."""
import json

import cv2
import numpy as np
import pytest

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.parsing.datasets import LIPParsingDataset
from lip_toolkit.parsing.datasets.multihuman import MHP_V2_TO_LIP, convert_cihp, convert_mhp
from lip_toolkit.parsing.label_io import read_label_map


def _smooth_image(h, w, seed):
    """A smooth picture, so JPEG round trips stay within a few grey levels."""
    yy, xx = np.mgrid[0:h, 0:w]
    base = (yy * 3 + xx * 2 + seed * 20) % 200 + 20
    return np.dstack([base, (base + 40) % 255, (base + 80) % 255]).astype(np.uint8)


# ---------------------------------------------------------------- CIHP

def _cihp_image_a():
    """Two persons side by side; person 1 has hair, torso skin (CIHP 10) and a left arm; person 2 a coat."""
    humans = np.zeros((20, 30), np.uint8)
    category = np.zeros((20, 30), np.uint8)
    humans[2:18, 3:12] = 1
    category[2:6, 3:12] = 2       # hair
    category[6:12, 3:12] = 10     # CIHP torso skin
    category[12:18, 3:12] = 14    # left arm
    humans[4:16, 10:25] = 2       # overlaps person 1's columns 10-11
    category[4:16, 10:25] = 7     # coat
    category[0, 2] = 5            # a part label outside every person
    return category, humans


def write_cihp_tree(root, n_train_extra=0, nested=True):
    base_root = root / 'instance-level_human_parsing' if nested else root
    images = {'train': ['0000006', '0000007'] + [f'{100 + i:07d}' for i in range(n_train_extra)],
              'val': ['0000001']}
    for split, folder in (('train', 'Training'), ('val', 'Validation')):
        base = base_root / folder
        for sub in ('Images', 'Category_ids', 'Human_ids', 'Instance_ids'):
            (base / sub).mkdir(parents=True)
        (base / f'{split}_id.txt').write_text(''.join(f'{i}\n' for i in images[split]))
        for index, image_id in enumerate(images[split]):
            if image_id == '0000006':
                category, humans = _cihp_image_a()
            else:
                humans = np.zeros((16, 12), np.uint8)
                category = np.zeros((16, 12), np.uint8)
                humans[3:13, 2:9] = 1
                category[3:13, 2:9] = 9
            h, w = humans.shape
            cv2.imwrite(str(base / 'Images' / f'{image_id}.jpg'), _smooth_image(h, w, index),
                        [cv2.IMWRITE_JPEG_QUALITY, 100])
            cv2.imwrite(str(base / 'Category_ids' / f'{image_id}.png'), category)
            cv2.imwrite(str(base / 'Human_ids' / f'{image_id}.png'), humans)
    return base_root


def _sample(out, split, sample_id):
    image = cv2.imread(str(out / 'TrainVal_images' / f'{split}_images' / f'{sample_id}.jpg'))
    label = read_label_map(out / 'TrainVal_parsing_annotations' / f'{split}_segmentations' / f'{sample_id}.png')
    return image, label


def test_cihp_crops_map_and_ignore_other_persons(tmp_path):
    write_cihp_tree(tmp_path / 'CIHP')
    out = tmp_path / 'cihp_lip'
    report = convert_cihp(tmp_path / 'CIHP', out, margin=0.0, workers=1, min_height=0)
    assert report.samples == {'train': 3, 'val': 1} and report.images == {'train': 2, 'val': 1}
    assert (out / 'TrainVal_images' / 'train_id.txt').read_text().split() == [
        '0000006_01', '0000006_02', '0000007_01']
    category, humans = _cihp_image_a()
    # person 1: box rows 2-17, cols 3-11 (margin 0)
    image, label = _sample(out, 'train', '0000006_01')
    assert label.shape == (16, 9)
    assert (label[0:2] == 2).all() and (label[2:4, :7] == 2).all()   # hair kept
    assert (label[4:10, :7] == 255).all()               # CIHP torso skin (10) is not LIP jumpsuits: ignored
    assert (label[10:14, :7] == 14).all()               # left arm
    assert (label[2:14, 7:9] == 255).all()              # person 2 overlapping the box: ignored
    assert (label[14:16, 7:9] == 14).all()
    source = _smooth_image(20, 30, 0)[2:18, 3:12].astype(int)
    assert np.abs(image.astype(int) - source).mean() < 3
    # person 2: box rows 4-15, cols 10-24; columns 10-11 are person 2's (humans holds 2 there)
    _, label2 = _sample(out, 'train', '0000006_02')
    assert label2.shape == (12, 15) and (label2 == 7).all()
    assert LIPParsingDataset(data_root=str(out), split='val').__len__() == 1
    provenance = json.loads((out / 'conversion.json').read_text())
    assert provenance['torso_skin'] == 'ignore' and provenance['samples'] == {'train': 3, 'val': 1}


def test_cihp_torso_skin_as_background_and_margin(tmp_path):
    write_cihp_tree(tmp_path / 'src', nested=False)
    out = tmp_path / 'out'
    convert_cihp(tmp_path / 'src', out, torso_skin='background', margin=0.25, workers=1, min_height=0)
    _, label = _sample(out, 'train', '0000006_01')
    # box 16x9 widened by round(16*0.25)=4 rows and round(9*0.25)=2 columns per side, clipped to the image
    assert label.shape == (20, 13)   # rows 0-19 (clipped), cols 1-13
    assert (label[6:12, 2:9] == 0).all()      # torso skin -> background
    assert label[0, 0] == 0                   # image pixel (x=1, y=0): nobody's, unlabelled: background
    assert label[0, 1] == 255                 # image pixel (x=2, y=0): a part label but nobody's: ignored
    _, label7 = _sample(out, 'train', '0000007_01')
    # box rows 3-12, cols 2-8: + round(2.5)=2 rows and round(1.75)=2 columns -> rows 1-14, cols 0-10
    assert label7.shape == (14, 11) and (label7[2:12, 2:9] == 9).all() and label7.sum() == 9 * 70


def test_cihp_small_persons_are_left_out_and_counted(tmp_path):
    src = write_cihp_tree(tmp_path / 'CIHP')
    report = convert_cihp(src, tmp_path / 'out', min_height=12, workers=1)
    # person heights: image 6 -> 16 and 12 rows (kept), image 7 and the val image -> 10 rows (left out)
    assert report.samples == {'train': 2, 'val': 0} and report.small_persons == 2
    assert 'lower than the minimum height' in report.summary()
    assert json.loads((tmp_path / 'out' / 'conversion.json').read_text())['small_persons'] == 2


def test_cihp_bad_item_stop_and_skip(tmp_path):
    src = write_cihp_tree(tmp_path / 'CIHP')
    missing = src / 'Training' / 'Category_ids' / '0000007.png'
    missing.unlink()
    out = tmp_path / 'out'
    with pytest.raises(LipToolkitError, match='file not found') as info:
        convert_cihp(src, out, workers=1, min_height=0)
    assert info.value.path == str(missing) and not out.exists()     # nothing half-written
    report = convert_cihp(src, out, on_error='skip', workers=1, min_height=0)
    assert report.skipped and report.skipped[0][0] == 'train/0000007' and str(missing) in report.skipped[0][1]
    assert report.samples['train'] == 2
    assert 'train/0000007' in (out / 'skipped.txt').read_text()
    with pytest.raises(LipToolkitError, match='add --overwrite to replace it'):
        convert_cihp(src, out, workers=1, min_height=0)


def test_cihp_invalid_label_value_names_pixel(tmp_path):
    src = write_cihp_tree(tmp_path / 'CIHP')
    category = np.zeros((16, 12), np.uint8)
    category[5, 4] = 42
    cv2.imwrite(str(src / 'Validation' / 'Category_ids' / '0000001.png'), category)
    with pytest.raises(LipToolkitError, match='42 is not a CIHP class id') as info:
        convert_cihp(src, tmp_path / 'out', workers=1, min_height=0)
    assert info.value.location == 'pixel (x=4, y=5)'


def test_cihp_process_pool_gives_same_tree(tmp_path):
    src = write_cihp_tree(tmp_path / 'CIHP', n_train_extra=40)
    one = convert_cihp(src, tmp_path / 'one', workers=1, min_height=0)
    two = convert_cihp(src, tmp_path / 'two', workers=2, min_height=0)
    assert one.samples == two.samples
    for name in ('TrainVal_images/train_id.txt', 'TrainVal_parsing_annotations/train_segmentations/0000006_02.png'):
        assert (tmp_path / 'one' / name).read_bytes() == (tmp_path / 'two' / name).read_bytes()


# ---------------------------------------------------------------- MHP v2

def _write_mhp_anno(path, label, seed):
    """3-channel annotation, label in the red channel (cv2 channel 2); noise in the others."""
    rng = np.random.default_rng(seed)
    bgr = rng.integers(0, 255, label.shape + (3,)).astype(np.uint8)
    bgr[:, :, 2] = label
    cv2.imwrite(str(path), bgr)


def write_mhp_tree(root):
    base_root = root / 'LV-MHP-v2'
    (base_root / 'list').mkdir(parents=True)
    (base_root / 'list' / 'train.txt').write_text('5\n12\n')
    (base_root / 'list' / 'val.txt').write_text('3\n')
    for split, ids in (('train', ['5', '12']), ('val', ['3'])):
        for sub in ('images', 'parsing_annos'):
            (base_root / split / sub).mkdir(parents=True)
        for index, image_id in enumerate(ids):
            cv2.imwrite(str(base_root / split / 'images' / f'{image_id}.jpg'), _smooth_image(20, 24, index),
                        [cv2.IMWRITE_JPEG_QUALITY, 100])
            first = np.zeros((20, 24), np.uint8)
            first[2:8, 2:10] = 4        # hair -> LIP 2
            first[8:14, 2:10] = 12      # t-shirt -> Upper-clothes 5
            first[14:18, 2:6] = 7       # left hand -> Left-arm 14
            first[14:18, 6:10] = 40     # backpack -> background
            first[18, 2:10] = 16        # torso skin -> 255
            second = np.zeros((20, 24), np.uint8)
            second[5:15, 8:20] = 34     # coat -> Coat 7 (overlaps the first person at cols 8-9)
            _write_mhp_anno(base_root / split / 'parsing_annos' / f'{image_id}_02_01.png', first, index)
            _write_mhp_anno(base_root / split / 'parsing_annos' / f'{image_id}_02_02.png', second, index + 9)
    return base_root


def test_mhp_class_map_covers_all_58_classes():
    assert sorted(MHP_V2_TO_LIP) == list(range(59))
    assert set(MHP_V2_TO_LIP.values()) <= set(range(20)) | {255}
    # the left/right pairs stay on their side
    for left, right in ((5, 6), (7, 8), (22, 23), (24, 25), (26, 27), (28, 29), (30, 31), (32, 33)):
        assert (MHP_V2_TO_LIP[left], MHP_V2_TO_LIP[right]) in ((14, 15), (16, 17), (18, 19))


def test_mhp_crops_map_and_ignore_other_persons(tmp_path):
    write_mhp_tree(tmp_path)
    out = tmp_path / 'mhp_lip'
    report = convert_mhp(tmp_path, out, margin=0.0, workers=1, min_height=0)
    assert report.samples == {'train': 4, 'val': 2}
    assert (out / 'TrainVal_images' / 'train_id.txt').read_text().split() == ['12_01', '12_02', '5_01', '5_02']
    _, first = _sample(out, 'train', '5_01')
    assert first.shape == (17, 8)                    # rows 2-18, cols 2-9
    # own hair / t-shirt pixels win over the coat of person 2 that overlaps columns 8-9 (crop columns 6-7)
    assert (first[0:6] == 2).all() and (first[6:12] == 5).all()
    assert (first[12:16, 0:4] == 14).all() and (first[12:16, 4:8] == 0).all() and (first[16] == 255).all()
    _, second = _sample(out, 'train', '5_02')
    assert second.shape == (10, 12)                  # rows 5-14, cols 8-19
    assert (second[:, 2:] == 7).all()
    assert (second[:, :2] == 7).all()                # cols 8-9 are annotated as coat in person 2's own file


def test_mhp_bad_items(tmp_path):
    src = write_mhp_tree(tmp_path)
    (src / 'train' / 'parsing_annos' / '12_02_02.png').rename(src / 'train' / 'parsing_annos' / '12_03_02.png')
    bad = np.zeros((20, 24), np.uint8)
    bad[1, 2] = 59
    _write_mhp_anno(src / 'val' / 'parsing_annos' / '3_02_02.png', bad, 0)
    with pytest.raises(LipToolkitError, match='do not match their declared count'):
        convert_mhp(src, tmp_path / 'out', workers=1, min_height=0)
    report = convert_mhp(src, tmp_path / 'out', on_error='skip', workers=1, min_height=0)
    assert [item for item, _ in report.skipped] == ['train/12', 'val/3']
    assert '59 is not a MHP v2 class id' in report.skipped[1][1] and 'pixel (x=2, y=1)' in report.skipped[1][1]
    assert report.samples == {'train': 2, 'val': 0}


def test_cli_commands(tmp_path, capsys):
    from lip_toolkit.cli import main
    write_mhp_tree(tmp_path / 'mhp')
    write_cihp_tree(tmp_path / 'cihp')
    assert main(['data', 'mhp', str(tmp_path / 'mhp'), str(tmp_path / 'a'), '--workers', '1',
                 '--min-height', '0']) == 0
    assert 'train: 4 persons from 2 images' in capsys.readouterr().out
    assert main(['data', 'cihp', str(tmp_path / 'cihp'), str(tmp_path / 'b'), '--torso-skin', 'background',
                 '--min-height', '12']) == 0
    assert '2 persons lower than the minimum height left out' in capsys.readouterr().out
    assert main(['data', 'cihp', str(tmp_path / 'cihp'), str(tmp_path / 'b')]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count('\n') == 0 and 'add --overwrite to replace it' in err
