"""Reading label PNGs: the index is read (never the colour) and every kind of bad file is a one-line error."""
import numpy as np
import pytest

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.parsing.label_io import decode_label_png, read_label_map, write_label_png

from ._label_helpers import write_grey, write_paletted


def test_paletted_png_is_read_as_indices(tmp_path):
    label = np.arange(20, dtype=np.uint8).reshape(4, 5)
    write_paletted(tmp_path / 'p.png', label)
    assert (read_label_map(tmp_path / 'p.png', 'pred') == label).all()


def test_written_label_reads_back_for_both_kinds(tmp_path):
    label = np.array([[0, 19, 255], [14, 15, 3]], np.uint8)
    write_label_png(tmp_path / 'a.png', label)
    write_label_png(tmp_path / 'b.png', label, paletted=False)
    from PIL import Image
    assert Image.open(tmp_path / 'a.png').mode == 'P' and Image.open(tmp_path / 'b.png').mode == 'L'
    for name in ('a.png', 'b.png'):
        assert (read_label_map(tmp_path / name, 'gt') == label).all()


def test_rgb_png_is_refused_with_a_hint(tmp_path):
    import cv2
    grey3 = np.repeat(np.full((3, 3, 1), 4, np.uint8), 3, axis=2)
    cv2.imwrite(str(tmp_path / 'rgb.png'), grey3)
    with pytest.raises(LipToolkitError, match='RGB PNG where a label map was expected.*channels are equal'):
        read_label_map(tmp_path / 'rgb.png', 'pred')
    # MHP v2 keeps labels in the red channel: that reader asks for it explicitly
    colour = np.zeros((2, 2, 3), np.uint8)
    colour[..., 2] = 7  # cv2 writes BGR, so channel 2 is red
    cv2.imwrite(str(tmp_path / 'red.png'), colour)
    assert (decode_label_png(tmp_path / 'red.png', rgb_channel='R') == 7).all()


@pytest.mark.parametrize('content, message', [
    (None, 'file not found'),
    (b'GIF89a not a png', 'not a PNG file'),
    (b'\x89PNG\r\n\x1a\n' + b'\x00\x00\x00\x0dIHDR' + b'\x00\x00\x00\x02\x00\x00\x00\x02\x08\x00\x00\x00\x00'
     + b'garbage', 'could not decode'),
])
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / 'x.png'
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(LipToolkitError, match=message) as info:
        read_label_map(path, 'gt')
    assert info.value.path == str(path)


def test_16_bit_is_refused(tmp_path):
    import cv2
    cv2.imwrite(str(tmp_path / 'w.png'), np.zeros((2, 2), np.uint16))
    with pytest.raises(LipToolkitError, match='16-bit grey PNG'):
        read_label_map(tmp_path / 'w.png', 'gt')


def test_values_and_size_checks(tmp_path):
    label = np.zeros((3, 4), np.uint8)
    label[2, 1] = 255
    write_grey(tmp_path / 'l.png', label)
    assert read_label_map(tmp_path / 'l.png', 'gt', shape=(3, 4))[2, 1] == 255
    with pytest.raises(LipToolkitError, match='not a class id') as info:
        read_label_map(tmp_path / 'l.png', 'pred')
    assert info.value.location == 'pixel (x=1, y=2)'
    with pytest.raises(LipToolkitError, match='differs'):
        read_label_map(tmp_path / 'l.png', 'gt', shape=(4, 4))
