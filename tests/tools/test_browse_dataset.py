"""browse-dataset: the pipeline's samples drawn, ground truth moved along with the image."""
import cv2
import numpy as np

from lip_toolkit.cli import main
from lip_toolkit.core.image_io import read_image_bgr
from lip_toolkit.pose.lip_csv import read_lip_gt_csv
from lip_toolkit.tools.browse_dataset import browse_dataset
from lip_toolkit.visualization.pose import joint_color

POSE_CONFIG = 'configs/demo/pose_hrnet-tiny_lip-128x96.py'
PARSING_CONFIG = 'configs/demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py'


def test_pose_joints_are_drawn_where_mmpose_transforms_put_them(synthetic_lip, tmp_path):
    """Val pipeline (no randomness): MMPose's own GetBBoxCenterScale + TopdownAffine, applied here to the CSV
    ground truth and the whole-image person box, say where each joint lands in the 96 x 128 input."""
    from mmpose.datasets.transforms import GetBBoxCenterScale, TopdownAffine
    paths = browse_dataset(POSE_CONFIG, tmp_path / 'pose', num=2, phase='val', data_root=synthetic_lip)
    assert [p.name[:5] for p in paths] == ['0000_', '0001_']
    names, gt = read_lip_gt_csv(synthetic_lip / 'TrainVal_pose_annotations' / 'lip_val_set.csv')
    row_of = {name[:-4]: row for row, name in enumerate(names)}
    for path in paths:
        stem = path.stem[5:]
        image = read_image_bgr(synthetic_lip / 'TrainVal_images' / 'val_images' / f'{stem}.jpg')
        keypoints = gt[row_of[stem]]
        results = dict(img=image, img_shape=image.shape[:2], bbox=np.array([[0, 0, image.shape[1], image.shape[0]]],
                                                                            np.float32),
                       keypoints=keypoints[None, :, :2].astype(np.float32),
                       keypoints_visible=np.isfinite(keypoints[None, :, 0]).astype(np.float32))
        results = TopdownAffine(input_size=(96, 128))(GetBBoxCenterScale()(results))
        picture = cv2.imread(str(path))
        assert picture.shape == (128, 96, 3)
        colours = np.array([joint_color(j) for j in range(16)])
        hits = []
        for joint, (x, y) in enumerate(results['transformed_keypoints'][0]):
            if not np.isfinite(keypoints[joint, 0]) or not (1 <= x < 95 and 1 <= y < 127):
                continue
            column, row = int(round(x)), int(round(y))
            patch = picture[row - 1:row + 2, column - 1:column + 2].reshape(-1, 1, 3).astype(int)
            # a skeleton colour in the 3 x 3 pixels at the joint (a joint drawn later may cover a close one)
            hits.append(bool((np.abs(patch - colours[None]).max(axis=2) <= 40).any()))
        assert len(hits) >= 8 and np.mean(hits) >= 0.8, hits


def test_parsing_samples_are_the_augmented_inputs_with_their_labels(synthetic_lip, tmp_path, capsys):
    assert main(['-q', 'browse-dataset', PARSING_CONFIG, '--data-root', str(synthetic_lip), '--out',
                 str(tmp_path / 'parsing'), '-n', '3']) == 0
    assert 'wrote 3 picture(s)' in capsys.readouterr().out
    pictures = sorted((tmp_path / 'parsing').glob('*.png'))
    assert len(pictures) == 3
    for picture in map(lambda p: cv2.imread(str(p)), pictures):
        assert picture.shape[0] >= 96 and picture.shape[1] > 96  # the 96 x 96 training crop plus a legend
    # A config without the dataloader asked for: one line.
    assert main(['browse-dataset', PARSING_CONFIG, '--out', str(tmp_path / 'x'), '--cfg-options',
                 'train_dataloader=None']) == 1
    assert capsys.readouterr().err.startswith('error: ') and not (tmp_path / 'x').exists()
