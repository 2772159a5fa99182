"""The shared image reader and writers: every common format becomes H x W x 3 uint8 BGR, bad files one error."""
import cv2
import numpy as np
import pytest
from PIL import Image

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.core.image_io import collect_images, find_image, read_image_bgr, write_image


def test_real_jpegs_match_cv2(real_lip_dir):
    for path in sorted((real_lip_dir / 'images').glob('*.jpg')):
        image = read_image_bgr(path)
        reference = cv2.imread(str(path))
        assert image.dtype == np.uint8 and image.shape == reference.shape
        # Two JPEG decoders may differ by a grey level or two, never more on average.
        assert np.abs(image.astype(int) - reference.astype(int)).mean() < 2.0


def test_png_with_alpha_is_composited_on_white(tmp_path):
    rgba = np.zeros((4, 6, 4), dtype=np.uint8)
    rgba[:, :3] = (255, 0, 0, 255)      # opaque red (RGB order in PIL)
    rgba[:, 3:] = (0, 0, 255, 0)        # fully transparent blue
    Image.fromarray(rgba, 'RGBA').save(tmp_path / 'a.png')
    image = read_image_bgr(tmp_path / 'a.png')
    assert image.shape == (4, 6, 3)
    assert tuple(image[0, 0]) == (0, 0, 255)          # red in BGR
    assert tuple(image[0, 5]) == (255, 255, 255)      # transparent -> white


def test_greyscale_and_palette_become_three_channels(tmp_path):
    grey = np.arange(20, dtype=np.uint8).reshape(4, 5) * 10
    Image.fromarray(grey, 'L').save(tmp_path / 'g.png')
    image = read_image_bgr(tmp_path / 'g.png')
    assert image.shape == (4, 5, 3)
    assert np.array_equal(image[:, :, 0], grey) and np.array_equal(image[:, :, 2], grey)

    paletted = Image.fromarray(np.array([[0, 1]], dtype=np.uint8), 'P')
    paletted.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    paletted.save(tmp_path / 'p.png')
    assert tuple(read_image_bgr(tmp_path / 'p.png')[0, 1]) == (0, 255, 0)


def test_16_bit_png_is_scaled_to_8_bits(tmp_path):
    deep = np.array([[0, 257 * 100, 65535]], dtype=np.uint16)
    cv2.imwrite(str(tmp_path / 'd.png'), deep)
    image = read_image_bgr(tmp_path / 'd.png')
    assert image.dtype == np.uint8
    assert list(image[0, :, 1]) == [0, 100, 255]


def test_cmyk_jpeg_is_converted(tmp_path):
    Image.new('CMYK', (8, 8), (0, 255, 255, 0)).save(tmp_path / 'c.jpg')  # pure red in CMYK
    image = read_image_bgr(tmp_path / 'c.jpg')
    assert image.shape == (8, 8, 3)
    blue, green, red = image[4, 4].astype(int)
    assert red > 200 and green < 60 and blue < 60


def test_exif_orientation_is_applied(tmp_path):
    picture = Image.new('RGB', (6, 3), (10, 20, 30))
    exif = picture.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise for display
    picture.save(tmp_path / 'rot.jpg', exif=exif)
    assert read_image_bgr(tmp_path / 'rot.jpg').shape == (6, 3, 3)


@pytest.mark.parametrize('content, message', [
    (None, 'image not found'),
    (b'', 'not an image'),
    (b'hello, this is text', 'not an image'),
])
def test_unreadable_files_raise_one_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / 'broken.jpg'
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(LipToolkitError) as info:
        read_image_bgr(path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_truncated_jpeg_and_folder_raise(tmp_path, real_lip_dir):
    data = next((real_lip_dir / 'images').glob('*.jpg')).read_bytes()
    (tmp_path / 'cut.jpg').write_bytes(data[:len(data) // 2])
    with pytest.raises(LipToolkitError, match='cut.jpg.*cannot decode'):
        read_image_bgr(tmp_path / 'cut.jpg')
    with pytest.raises(LipToolkitError, match='folder'):
        read_image_bgr(tmp_path)


def test_write_image_is_atomic_and_round_trips(tmp_path):
    picture = np.random.default_rng(0).integers(0, 256, (7, 9, 3), dtype=np.uint8)
    out = write_image(tmp_path / 'sub' / 'p.png', picture)
    assert np.array_equal(cv2.imread(str(out)), picture)
    assert sorted(p.name for p in (tmp_path / 'sub').iterdir()) == ['p.png']  # no temporary left over


def test_find_image_and_collect_images(tmp_path):
    (tmp_path / 'a.PNG').write_bytes(b'x')
    (tmp_path / 'b.jpg').write_bytes(b'x')
    (tmp_path / 'notes.txt').write_text('x')
    (tmp_path / '.hidden.jpg').write_bytes(b'x')
    assert find_image(tmp_path, 'a.jpg') == tmp_path / 'a.PNG'
    assert find_image(tmp_path, 'b.jpg') == tmp_path / 'b.jpg'
    with pytest.raises(LipToolkitError, match="no image named 'c.jpg'"):
        find_image(tmp_path, 'c.jpg')
    found = collect_images([tmp_path, tmp_path / 'b.jpg', tmp_path / 'notes.txt'])
    assert [p.name for p in found] == ['a.PNG', 'b.jpg', 'notes.txt']
    with pytest.raises(LipToolkitError, match='input not found'):
        collect_images([tmp_path / 'missing'])
    (tmp_path / 'empty').mkdir()
    with pytest.raises(LipToolkitError, match='holds no images'):
        collect_images([tmp_path / 'empty'])


def test_more_formats(tmp_path):
    rgb16 = np.random.default_rng(0).integers(0, 65536, (5, 7, 3)).astype(np.uint16)
    cv2.imwrite(str(tmp_path / 'rgb16.png'), rgb16)  # 16-bit colour: scaled to 8 bits (within one level)
    image = read_image_bgr(tmp_path / 'rgb16.png')
    assert np.abs(image.astype(int) - rgb16 // 257).max() <= 1
    for name in ('x.webp', 'x.bmp', 'x.tif'):
        options = {'lossless': True} if name.endswith('webp') else {}
        Image.new('RGB', (6, 4), (10, 200, 30)).save(tmp_path / name, **options)
        assert tuple(read_image_bgr(tmp_path / name)[2, 3]) == (30, 200, 10), name
    Image.new('I;16', (3, 2), 257 * 40).save(tmp_path / 'g16.tif')
    assert (read_image_bgr(tmp_path / 'g16.tif') == 40).all()
    paletted = Image.new('P', (4, 4), 1)
    paletted.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    paletted.save(tmp_path / 'pt.png', transparency=1)  # palette entry 1 transparent: white
    assert (read_image_bgr(tmp_path / 'pt.png') == 255).all()
