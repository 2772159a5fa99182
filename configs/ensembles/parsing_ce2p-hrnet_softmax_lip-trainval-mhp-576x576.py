# The same five members as parsing_ce2p-hrnet_logits_*, averaging each member's softmax class probabilities
# (per flip pass) instead of raw logits.
# Seed's LIP test mIoU: 62.17 (best member) -> 64.13 (averaged softmax maps; 64.00 with logits).
#   lip-toolkit ensemble configs/ensembles/parsing_ce2p-hrnet_softmax_lip-trainval-mhp-576x576.py \
#       --split test --out test_pngs
_base_ = ['./parsing_ce2p-hrnet_logits_lip-trainval-mhp-576x576.py']
average = 'softmax'
