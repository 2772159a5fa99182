# The self-correction benchmark's tiny UNet (fcn_unet-tiny_75e_synthetic-64x64.py) with SCHP's parsing loss: per
# output 0.5 cross-entropy averaged over the labelled pixels + 0.5 Lovasz-softmax (SCHP utils/criterion.py 64-70,
# as configs/parsing/schp/schp_ce2p_r101-d16_3xb16-150e_lip-473x473.py). Under SelfCorrectionHook only the
# cross-entropy becomes soft; the Lovasz term keeps training on the given (hard) labels, as in SCHP, so with
# soft_loss_scale=1/20 (SCHP's KL 'mean') the given labels still drive most of the gradient after the first cycle.
_base_ = ['./fcn_unet-tiny_75e_synthetic-64x64.py']
model = dict(
    decode_head=dict(loss_decode=[
        dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.5, avg_non_ignore=True),
        dict(type='LovaszLoss', loss_type='multi_class', classes='present', per_image=False, reduction='none',
             loss_weight=0.5),
    ]))
