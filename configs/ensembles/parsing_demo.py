# The demo's parsing ensemble: the two tiny CE2P-OCNets `make demo` (`lip-toolkit demo --out demo_out`) trains
# from different seeds, logits averaged (each with flip test). Run from the repository folder after `make demo`:
#   lip-toolkit ensemble configs/ensembles/parsing_demo.py --data-root demo_out/data --out val_pngs
# tests/test_demo.py keeps these members and checkpoints in step with lip_toolkit/demo.py.
track = 'parsing'
average = 'logits'
flip = True
scales = (1.0, )
members = [
    dict(config='demo/parsing_ce2p-aspoc_r18-d16-tiny_1xb4-20e_synthetic-128x96.py',
         checkpoint='demo_out/work_dirs/ce2p-ocnet-tiny-seed1/epoch_20.pth', name='ce2p-ocnet-tiny-seed1'),
    dict(config='demo/parsing_ce2p-aspoc_r18-d16-tiny_1xb4-20e_synthetic-128x96.py',
         checkpoint='demo_out/work_dirs/ce2p-ocnet-tiny-seed2/epoch_20.pth', name='ce2p-ocnet-tiny-seed2'),
]
