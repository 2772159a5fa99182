"""The toolkit's main job on its built-in default, end to end on a CPU in a few minutes.

Synthesise a LIP release, train tiny members of both tracks (one process per core), score each member, their
ensemble and a no-model reference on the val split (pose: averaged heatmaps then PoseFix refinement; parsing:
averaged logits), predict the test split, write both challenge submissions (checked) and a report a newcomer can
read at a glance: the scores table, learning curves and pictures (val images, and the user's own photos).
"""
import dataclasses
import json
import resource
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .core.errors import LipToolkitError
from .core.io import atomic_write, check_output, replacing_directory
from .core.paths import CONFIGS_DIR
from .core.logs import is_verbose
from .core.progress import info

POSE_HRNET = 'demo/pose_hrnet-tiny_1xb8-23e_lip-128x96.py'
POSEFIX = 'demo/pose_posefix-tiny_1xb16-20e_lip-128x96.py'
PARSING_CE2P = 'demo/parsing_ce2p-aspoc_r18-d16-tiny_1xb4-20e_synthetic-128x96.py'


@dataclasses.dataclass
class DemoMember:
    """A tiny model the demo trains: its name, config (under ``configs/``), epochs and seed; ``validate``: whether
    its learning curve shows a val score (PoseFix's would be of refining synthetic coarse poses, not comparable with
    the pose models', so its curve is the loss alone and its val passes would be time spent on nothing shown)."""

    name: str
    config: str
    epochs: int
    seed: int
    validate: bool = True

    def cfg_options(self, validations: int) -> Dict:
        """Config overrides: epochs, seed, ``validations`` val passes for the learning curves (none unless
        ``validate``).

        The demo configs' learning-rate schedules have no ``end``, so mmengine stretches them over ``epochs``; they
        keep a checkpoint every few epochs (an interrupted member can resume) and always one of the last epoch.
        """
        options = {'train_cfg.max_epochs': self.epochs, 'randomness.seed': self.seed}
        if validations > 0 and self.validate:
            options['train_cfg.val_interval'] = max(1, self.epochs // validations)
        else:
            options.update({'val_cfg': None, 'val_dataloader': None, 'val_evaluator': None})
        return options

    def checkpoint(self, work_dirs: Path) -> Path:
        return work_dirs / self.name / f'epoch_{self.epochs}.pth'


@dataclasses.dataclass
class DemoPlan:
    """What the demo does; the defaults are the embedded demo, ``quick()`` a smaller one for tests.

    ``workers`` trains that many members at once, one process each with one torch thread (default: one per core,
    at most 2); ``validations`` is the number of val passes drawn on each member's learning curve (0: none);
    ``photos`` a folder or files of the user's own images to predict and draw.
    """

    train: int = 200
    val: int = 40
    test: int = 20
    seed: int = 0
    pose_epochs: int = 23
    posefix_epochs: int = 20
    parsing_epochs: int = 20
    pictures: int = 3
    validations: int = 4
    workers: Optional[int] = None
    photos: Optional[str] = None

    @classmethod
    def quick(cls) -> 'DemoPlan':
        return cls(train=48, val=12, test=6, pose_epochs=2, posefix_epochs=1, parsing_epochs=2, pictures=2,
                   validations=1)

    def pose_members(self) -> List[DemoMember]:
        # Two tiny HRNets trained from different seeds. (The seed's HRNet + MSPN pair is in configs/ensembles;
        # tiny MSPN costs 4x tiny HRNet per iteration on a CPU and is far weaker at this budget.)
        return [DemoMember(f'hrnet-tiny-seed{seed}', POSE_HRNET, self.pose_epochs, seed) for seed in (1, 2)]

    def posefix(self) -> DemoMember:
        # A fixed seed like the other members: without one mmengine draws a new seed per run and the refined
        # score changed from run to run (measured).
        return DemoMember('posefix-tiny', POSEFIX, self.posefix_epochs, self.seed, validate=False)

    def parsing_members(self) -> List[DemoMember]:
        return [DemoMember(f'ce2p-ocnet-tiny-seed{seed}', PARSING_CE2P, self.parsing_epochs, seed)
                for seed in (1, 2)]

    def members(self) -> List[DemoMember]:
        """Every member, in the order that lets two workers finish together: one worker trains parsing, parsing;
        the other PoseFix, pose, pose. The epochs are chosen so that both take about the same CPU time (measured
        CPU s per member of the default plan: see the report's last line)."""
        (parsing1, parsing2), (pose1, pose2) = self.parsing_members(), self.pose_members()
        return [parsing1, self.posefix(), pose1, parsing2, pose2]


def _cpu_seconds(who=resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _all_cpu_seconds() -> float:
    """CPU seconds of this process and of its finished child processes (training workers, rendering pool)."""
    return _cpu_seconds() + _cpu_seconds(resource.RUSAGE_CHILDREN)


def _train_member(job: Tuple[str, str, str, Dict, bool]) -> Tuple[str, float]:
    """Train one member (in a worker process or in-process); return its checkpoint and the CPU seconds spent."""
    import warnings

    import torch

    from .core.logs import route_warnings, set_verbose
    from .core.runner import train
    config, work_dir, data_root, cfg_options, verbose = job
    # A spawned worker starts without the command line's screen settings: host warnings to the member's log
    # file (the screen with --verbose), as `lip-toolkit train` does.
    set_verbose(verbose)
    route_warnings()
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)
    torch.set_num_threads(1)
    start = _cpu_seconds()
    # overwrite: a rerun of the demo into the same --out trains afresh
    train(config, work_dir=work_dir, data_root=data_root, cfg_options=cfg_options, quiet=True, overwrite=True)
    marker = Path(work_dir) / 'last_checkpoint'
    if not marker.is_file():
        raise LipToolkitError('training wrote no checkpoint', work_dir)
    return marker.read_text().strip(), _cpu_seconds() - start


def _train_all(members: Sequence[DemoMember], jobs: Sequence[Tuple], workers: int, done) -> Dict[str, Tuple]:
    """Train every member, ``workers`` at a time; ``done(member, checkpoint, cpu_seconds)`` as each finishes."""
    results = {}
    if workers <= 1:
        for member, job in zip(members, jobs):
            results[member.name] = _train_member(job)
            done(member, *results[member.name])
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    # spawn: a fresh interpreter per worker is safe whatever threads the parent runs (torch, OpenCV)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context('spawn'))
    try:
        futures = {pool.submit(_train_member, job): member for member, job in zip(members, jobs)}
        for future in as_completed(futures):
            member = futures[future]
            results[member.name] = future.result()
            done(member, *results[member.name])
    finally:
        # On an error or Ctrl-C, drop the trainings that have not started instead of running them first.
        pool.shutdown(wait=True, cancel_futures=True)
    return results


class _Steps:
    """Numbered progress lines with elapsed time (silenced by --quiet); remembers each step's duration."""

    def __init__(self, total: int):
        self.total, self.done, self.start = total, 0, time.perf_counter()
        self.last = self.start
        self.seconds: List[Tuple[str, float]] = []

    def __call__(self, message: str, label: Optional[str] = None) -> None:
        """Print ``message``; time the step under ``label`` (steps with the same label in a row add up)."""
        now = time.perf_counter()
        self.done += 1
        label = label or message
        if self.seconds and self.seconds[-1][0] == label:
            self.seconds[-1] = (label, round(self.seconds[-1][1] + now - self.last, 1))
        else:
            self.seconds.append((label, round(now - self.last, 1)))
        self.last = now
        info(f'[{self.done}/{self.total} {now - self.start:6.1f}s] {message}')


def run_demo(out_dir, plan: Optional[DemoPlan] = None, device: Optional[str] = 'cpu',
             overwrite: bool = False) -> Dict:
    """Run the demo into ``out_dir`` and return its summary (also written as ``summary.json``).

    An ``out_dir`` that holds anything is refused unless ``overwrite`` (:func:`lip_toolkit.core.io.check_output`),
    before anything is made; with it the old contents are replaced once the run succeeds (kept if it fails).

    Layout of ``out_dir``: ``data/`` (synthetic LIP), ``work_dirs/<member>/`` (logs, checkpoints),
    ``predictions/`` (val and test predictions of the ensembles), ``submissions/`` (``pose_submission.csv``,
    ``parsing_submission.zip``), ``pictures/`` (learning curves, val pictures, ``photos/``), ``report.md``,
    ``summary.json``.
    """
    check_output(out_dir, overwrite)
    import torch
    plan = plan or DemoPlan()
    threads = torch.get_num_threads()
    # Tiny models: one intra-op thread is faster than two on 2 cores (measured 13 s vs 38 s per CE2P-tiny epoch
    # with one other busy process), because idle OpenMP threads spin against everything else on the machine;
    # the cores are used by training members in parallel processes instead.
    torch.set_num_threads(1)
    try:
        with replacing_directory(out_dir):
            return _run_demo(out_dir, plan, device)
    finally:
        torch.set_num_threads(threads)


def _workers(plan: DemoPlan, members: int) -> int:
    from .core.pools import default_workers
    wanted = plan.workers if plan.workers is not None else min(2, default_workers())
    return max(1, min(int(wanted), members))


def _run_demo(out_dir, plan: DemoPlan, device: Optional[str]) -> Dict:
    from .ensemble_config import EnsembleMember, EnsembleSpec
    from .parsing.ensemble import ensemble_parsing
    from .parsing.submission import make_parsing_submission
    from .pose.ensemble import ensemble_pose
    from .pose.submission import make_pose_submission
    from .synthetic import synthesize_lip

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LipToolkitError(f'cannot create the demo folder: {exc.strerror}', out) from None
    photos = _photo_paths(plan.photos)
    data = out / 'data'
    members = plan.members()
    workers = _workers(plan, len(members))
    step = _Steps(total=1 + len(members) + 5 + (1 if photos else 0) + 1)
    started, cpu_started = time.perf_counter(), _all_cpu_seconds()

    synthesize_lip(data, train=plan.train, val=plan.val, test=plan.test, seed=plan.seed, overwrite=True)
    step(f'synthetic LIP: {plan.train} train / {plan.val} val / {plan.test} test images in {data}',
         'synthetic data')

    work_dirs = out / 'work_dirs'
    info(f'training {len(members)} tiny models, {workers} at a time (logs: {work_dirs}/<model>/)')
    jobs = [(str(CONFIGS_DIR / m.config), str(work_dirs / m.name), str(data), m.cfg_options(plan.validations),
             is_verbose()) for m in members]
    training_cpu: Dict[str, float] = {}

    def trained(member, checkpoint, cpu_seconds):
        training_cpu[member.name] = round(cpu_seconds, 1)
        step(f'trained {member.name} ({member.epochs} epoch{"s" if member.epochs > 1 else ""}, '
             f'{cpu_seconds:.0f} CPU s)', f'training {len(members)} models, {workers} at a time')

    checkpoints = {name: ckpt for name, (ckpt, _) in _train_all(members, jobs, workers, trained).items()}

    def spec(track, chosen: Sequence[DemoMember], refiner: Optional[DemoMember] = None) -> EnsembleSpec:
        def as_member(m):
            return EnsembleMember(config=str(CONFIGS_DIR / m.config), checkpoint=checkpoints[m.name], name=m.name)
        return EnsembleSpec(track=track, members=[as_member(m) for m in chosen], average='logits', flip=True,
                            scales=(1.0,), refiner=as_member(refiner) if refiner else None)

    predictions = out / 'predictions'
    pose_spec = spec('pose', plan.pose_members(), plan.posefix())
    parsing_spec = spec('parsing', plan.parsing_members())
    results = {}
    results['pose_val'] = ensemble_pose(pose_spec, split='val', data_root=data, out=predictions / 'pose_val.csv',
                                        device=device)
    results['pose_reference'] = mean_pose_scores(data)
    step('pose: members, heatmap ensemble, PoseFix refinement and the mean-pose reference scored on val')
    results['parsing_val'] = ensemble_parsing(parsing_spec, split='val', data_root=data,
                                              out=predictions / 'parsing_val', device=device)
    results['parsing_reference'] = background_only_scores(data)
    step('parsing: members, logit ensemble and the all-background reference scored on val')
    ensemble_pose(pose_spec, split='test', data_root=data, out=predictions / 'pose_test.csv', device=device)
    ensemble_parsing(parsing_spec, split='test', data_root=data, out=predictions / 'parsing_test', device=device)
    step('test split predicted by both ensembles')

    test_ids = data / 'Testing_images' / 'test_id.txt'
    test_images = data / 'Testing_images' / 'testing_images'
    submissions = out / 'submissions'
    make_pose_submission(predictions / 'pose_test.csv', test_ids, submissions / 'pose_submission.csv',
                         images_dir=test_images)
    make_parsing_submission(predictions / 'parsing_test', test_ids, submissions / 'parsing_submission.zip',
                            images_dir=test_images)
    step(f'challenge files written and checked in {submissions}')

    pictures = _val_pictures(out, data, predictions, plan.pictures)
    curves = _learning_curves(out, plan, work_dirs)
    step(f'learning curves and {len(pictures)} val pictures in {out / "pictures"}')
    photo_pictures = []
    if photos:
        photo_pictures = _photo_pictures(out, photos, pose_spec, parsing_spec, device)
        step(f'{len(photo_pictures)} of your photos predicted and drawn in {out / "pictures" / "photos"}')

    summary = _summary(results, plan, seconds=time.perf_counter() - started,
                       cpu_seconds=_all_cpu_seconds() - cpu_started,
                       training_cpu=training_cpu, workers=workers, steps=step.seconds)
    report = _report(summary, out, curves, pictures, photo_pictures)
    with atomic_write(out / 'report.md') as handle:
        handle.write(report)
    with atomic_write(out / 'summary.json') as handle:
        json.dump(summary, handle, indent=2)
    step(f'report: {out / "report.md"}')
    summary['report'] = str(out / 'report.md')
    return summary


# ------------------------------------------------------------------------------------- no-model references

def mean_pose_scores(data_root) -> Dict:
    """PCKh on val of a model-free answer: the training set's mean pose, in image-relative coordinates.

    Each training joint is taken as ``((x - 1) / W, (y - 1) / H)`` of its image (LIP CSVs are 1-based), the
    labelled ones are averaged per joint, and every val image is answered with ``1 + mean * (W, H)``. The
    top-down models see the same whole-image box, so this is what a model that ignores the pixels can reach.
    """
    from PIL import Image

    from .pose.datasets import find_lip_pose_files
    from .pose.lip_csv import read_lip_gt_csv
    from .pose.pckh import compute_lip_pckh
    train_csv, train_images, _ = find_lip_pose_files(data_root, 'train')
    val_csv, val_images, _ = find_lip_pose_files(data_root, 'val')

    def relative(csv, images):
        names, points = read_lip_gt_csv(csv)
        sizes = []
        for name in names:
            with Image.open(Path(images) / name) as image:  # reads the header only
                sizes.append(image.size)
        sizes = np.array(sizes, dtype=np.float64)  # (N, 2): W, H
        return points, sizes, (points[..., :2] - 1.0) / sizes[:, None, :]

    _, _, train_relative = relative(train_csv, train_images)
    mean = np.nanmean(train_relative, axis=0)  # (16, 2)
    val_points, val_sizes, _ = relative(val_csv, val_images)
    answer = 1.0 + mean[None] * val_sizes[:, None, :]
    scores = compute_lip_pckh(val_points, answer)
    return {'PCKh': scores['Mean'], **scores}


def background_only_scores(data_root) -> Dict:
    """mIoU on val of a model-free answer: every pixel background (LIP's formula over the 20 classes)."""
    from .core.io import read_id_list
    from .parsing.evaluation import confusion_matrix, miou_from_confusion
    from .parsing.label_io import read_label_map
    root = Path(data_root)
    seg_dir = root / 'TrainVal_parsing_annotations' / 'val_segmentations'
    total = np.zeros((20, 20), dtype=np.int64)
    for image_id in read_id_list(root / 'TrainVal_images' / 'val_id.txt'):
        label = read_label_map(seg_dir / f'{image_id}.png')
        total += confusion_matrix(label, np.zeros_like(label))
    return miou_from_confusion(total)


# ---------------------------------------------------------------------------------------------- pictures

def _val_pictures(out: Path, data: Path, predictions: Path, limit: int) -> List[Path]:
    from .visualization import visualize_parsing_predictions, visualize_pose_predictions
    val_images = data / 'TrainVal_images' / 'val_images'
    pose = visualize_pose_predictions(predictions / 'pose_val.csv', val_images, out / 'pictures' / 'pose',
                                      gt_csv=data / 'TrainVal_pose_annotations' / 'lip_val_set.csv', limit=limit)
    parsing = visualize_parsing_predictions(predictions / 'parsing_val', val_images, out / 'pictures' / 'parsing',
                                            gt_dir=data / 'TrainVal_parsing_annotations' / 'val_segmentations',
                                            limit=limit)
    return list(pose) + list(parsing)


def _learning_curves(out: Path, plan: DemoPlan, work_dirs: Path) -> Path:
    from .visualization.reports import plot_demo_curves
    runs = {'pose': {m.name: work_dirs / m.name for m in plan.pose_members() + [plan.posefix()]},
            'parsing': {m.name: work_dirs / m.name for m in plan.parsing_members()}}
    # PoseFix is trained without val passes (DemoMember.validate): its curve is the loss alone
    return plot_demo_curves(runs, out / 'pictures' / 'learning_curves.png', loss_only=[plan.posefix().name])


def _photo_paths(photos) -> List[Path]:
    if not photos:
        return []
    from .core.image_io import collect_images
    return list(collect_images([photos]))


def _photo_pictures(out: Path, photos: Sequence[Path], pose_spec, parsing_spec, device) -> List[Path]:
    """Both ensembles on the user's photos (``predict``'s own overlays), pose beside parsing, one picture each."""
    from .core.image_io import read_image_bgr, write_image
    from .predict import predict
    from .visualization import side_by_side
    folder = out / 'pictures' / 'photos'
    pose = predict(photos, folder / 'pose', ensemble=pose_spec, device=device)
    parsing = predict(photos, folder / 'parsing', ensemble=parsing_spec, device=device)
    written = []
    for pose_file, parsing_file in zip(pose['files'], parsing['files']):
        stem = Path(pose_file['image']).stem
        picture = side_by_side([('pose', read_image_bgr(pose_file['overlay'])),
                                ('parsing', read_image_bgr(parsing_file['overlay']))])
        written.append(write_image(folder / f'{stem}.png', picture))
    return written


# ---------------------------------------------------------------------------------------- summary, report

def _row(name: str, score: float, kind: str, about: str) -> Dict:
    return {'name': name, 'score': round(float(score), 2), 'kind': kind, 'about': about}


def _summary(results: Dict, plan: DemoPlan, seconds: float, cpu_seconds: float, training_cpu: Dict[str, float],
             workers: int, steps: Sequence[Tuple[str, float]]) -> Dict:
    pose, parsing = results['pose_val'], results['parsing_val']
    pose_rows = [_row('mean pose (no model)', results['pose_reference']['PCKh'], 'reference',
                      "the training set's average pose in every image")]
    pose_rows += [_row(m['name'], m['PCKh'], 'member', 'tiny HRNet, flip test') for m in pose['members']]
    pose_rows.append(_row('ensemble (averaged heatmaps)', pose['ensemble']['PCKh'], 'ensemble',
                          "the members' heatmaps averaged, then decoded"))
    if pose.get('refined'):
        pose_rows.append(_row('ensemble + PoseFix', pose['refined']['PCKh'], 'ensemble',
                              "the ensemble's joints refined by tiny PoseFix"))
    average = parsing.get('average', 'logits')
    parsing_rows = [_row('all background (no model)', results['parsing_reference']['mIoU'], 'reference',
                         'every pixel labelled background')]
    parsing_rows += [_row(m['name'], m['mIoU'], 'member', 'tiny CE2P-OCNet, flip test') for m in parsing['members']]
    parsing_rows.append(_row(f'ensemble (averaged {average})', parsing['ensemble']['mIoU'], 'ensemble',
                             f"the members' {average} averaged"))
    ensemble_iou = parsing['ensemble'].get('IoU', {})
    return {
        'seconds': round(seconds, 1),
        'cpu_seconds': round(cpu_seconds, 1),
        'workers': workers,
        'steps': [list(s) for s in steps],
        'training_cpu_seconds': training_cpu,
        'plan': dataclasses.asdict(plan),
        'pose': {'metric': 'PCKh@0.5', 'rows': pose_rows, 'checks': _checks(pose_rows)},
        'parsing': {'metric': 'mIoU', 'rows': parsing_rows, 'checks': _checks(parsing_rows),
                    'classes_found': sorted(name for name, value in ensemble_iou.items() if value and value > 0),
                    'classes': len(ensemble_iou)},
    }


def _checks(rows: Sequence[Dict]) -> Dict:
    """Whether every member beats the no-model reference and every ensemble row its best member."""
    reference = max(r['score'] for r in rows if r['kind'] == 'reference')
    best_member = max(r['score'] for r in rows if r['kind'] == 'member')
    return {'members_beat_reference': all(r['score'] > reference for r in rows if r['kind'] == 'member'),
            'ensembles_not_worse_than_best_member': {r['name']: r['score'] >= best_member
                                                     for r in rows if r['kind'] == 'ensemble'},
            'best_member': best_member}


_TRACK_TEXT = {
    'pose': ('Pose, PCKh@0.5', 'the share of joints predicted within half a head size of the truth'),
    'parsing': ('Parsing, mIoU', "the overlap of predicted and true regions, averaged over LIP's 20 classes"),
}


def _report(summary: Dict, out: Path, curves: Path, pictures: Sequence[Path], photos: Sequence[Path]) -> str:
    plan = summary['plan']
    trained = len(summary['training_cpu_seconds'])
    lines = ['# lip-toolkit demo report', '',
             f'**What ran**: {plan["train"] + plan["val"] + plan["test"]} synthetic LIP images were drawn '
             f'({plan["train"]} train / {plan["val"]} val / {plan["test"]} test, seed {plan["seed"]}); {trained} '
             f'tiny models were trained from scratch on the CPU ({summary["workers"]} at a time), scored on the '
             f'{plan["val"]} val images, combined into ensembles, and used to write both challenge files. '
             f'{summary["seconds"]:.0f} s in all ({summary["cpu_seconds"]:.0f} CPU s). '
             'Rerun: `lip-toolkit demo --out DIR --overwrite`.', '',
             '## Scores on val (higher is better)', '']
    for track in ('pose', 'parsing'):
        part = summary[track]
        title, meaning = _TRACK_TEXT[track]
        lines += [f'### {title}: {meaning}', '', '| | model | score | what it is |', '|---|---|---:|---|']
        lines += [f'| {r["kind"]} | {r["name"]} | {r["score"]:.2f} | {r["about"]} |' for r in part['rows']]
        lines += [''] + _verdicts(part) + ['']
    lines += ['## Learning curves', '',
              'Training loss (left, relative to its first value) and val score during training (right; without '
              'the flip test, so a little below the table) of every model. Falling loss and rising score: the '
              'models learn.', '',
              f'![learning curves]({curves.relative_to(out)})', '',
              '## Pictures', '', 'Val images: ground truth beside the ensembles\' prediction.', '']
    lines += [f'![{p.stem}]({p.relative_to(out)})' for p in pictures]
    if photos:
        lines += ['', '### Your photos', '',
                  'The same ensembles on real photos. They were trained for minutes on synthetic figures only, so '
                  'expect rough results here: this shows the `predict` path, not what trained models reach.', '']
        lines += [f'![{p.stem}]({p.relative_to(out)})' for p in photos]
    lines += ['', '## Files', '',
              '- `submissions/pose_submission.csv`, `submissions/parsing_submission.zip`: challenge files, checked',
              '- `predictions/`: val and test predictions of both ensembles',
              '- `work_dirs/<model>/`: each model\'s log, scalars and checkpoint',
              '- `summary.json`: every number of this report', '',
              '## Where the time went', '', '| step | seconds |', '|---|---:|']
    lines += [f'| {name} | {seconds:.1f} |' for name, seconds in summary['steps']]
    lines += ['', 'Training CPU seconds per model: ' + ', '.join(
        f'{name} {seconds:.0f}' for name, seconds in summary['training_cpu_seconds'].items()) + '.']
    return '\n'.join(lines) + '\n'


def _verdicts(part: Dict) -> List[str]:
    checks = part['checks']
    lines = ['- ' + ('every model beats the no-model reference' if checks['members_beat_reference']
                     else '**a model does not beat the no-model reference on this run**')]
    for name, ok in checks['ensembles_not_worse_than_best_member'].items():
        score = next(r['score'] for r in part['rows'] if r['name'] == name)
        change = score - checks['best_member']
        lines.append(f'- {name}: {change:+.2f} against the best member' + ('' if ok else ' (**worse on this run**)'))
    if 'classes_found' in part:
        lines.append(f'- the ensemble finds {len(part["classes_found"])} of {part["classes"]} classes '
                     '(IoU above 0)')
    return lines
