"""The training loop (``train``: autograd and torch.optim's Adam or SGD, full batch by
default, divergence detected and reported) and the benchmark (``bench``)."""

from __future__ import annotations

import numpy as np
import torch

# torch.optim's first optimizer in a process imports torch._dynamo (about 1 s here, measured
# with cProfile). Importing it with this module keeps that one-time library cost out of the
# first training run, its progress bar and its recorded wall time.
import torch._dynamo

from dl_core.autoencoder.config import PIXELS, REPORT_EVERY, AEConfig, AEResult, ProgressFn
from dl_core.autoencoder.losses import corrupt, losses
from dl_core.autoencoder.model import decode_logits, encode, init_params, output
from dl_core.data import load_digits
from dl_core.device import pick
from dl_core.training import generator, timer


def _flat_digits(dev: torch.device):
    d = load_digits()
    X = d.X_train.reshape(-1, PIXELS).to(dev)  # (N_train, 64)
    Xt = d.X_test.reshape(-1, PIXELS).to(dev)  # (N_test, 64)
    return X, Xt, d.y_test


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def train(
    cfg: AEConfig, device: torch.device | str | None = None, on_step: ProgressFn | None = None
) -> AEResult:
    """Train with Adam; divergence (non-finite loss) stops training and is reported.

    ``on_step(k, recon[:k], kl[:k])`` is called every ``REPORT_EVERY`` steps and at the end.
    Device: ``pick()`` (CUDA when present) unless ``device`` is given."""
    dev = torch.device(device) if device is not None else pick()
    kind = cfg.kind
    with timer() as t:
        X, Xt, y_test = _flat_digits(dev)
        N = X.shape[0]
        p = {
            k: v.to(dev).requires_grad_() for k, v in init_params(cfg, generator(cfg.seed)).items()
        }
        g_noise = generator(cfg.seed + 1, dev)  # input noise and eps
        g_batch = generator(cfg.seed + 2)
        make = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.SGD
        opt = make(list(p.values()), lr=cfg.lr)
        rec_h = torch.zeros(cfg.steps, device=dev)  # (K,) filled on the device, copied at checks
        kl_h = torch.zeros(cfg.steps, device=dev)
        eval_steps, test_mse = [], []
        full = cfg.batch_size == 0 or cfg.batch_size >= N
        perm, pos = None, N
        diverged_at, done = None, 0
        for k in range(cfg.steps):
            if full:
                xb = X
            else:
                if pos + cfg.batch_size > N:  # a new epoch: reshuffle
                    perm, pos = torch.randperm(N, generator=g_batch).to(dev), 0
                xb = X[perm[pos : pos + cfg.batch_size]]
                pos += cfg.batch_size
            with torch.enable_grad():
                x_in = corrupt(xb, cfg.noise, g_noise)
                eps = None
                if kind == "vae":
                    eps = torch.randn(xb.shape[0], cfg.latent, generator=g_noise, device=dev)
                recon, kl = losses(p, x_in, xb, cfg, eps)
                loss = recon + cfg.beta * kl
                opt.zero_grad(set_to_none=True)
                loss.backward()
            opt.step()
            with torch.no_grad():
                rec_h[k], kl_h[k] = recon.detach(), kl.detach()
            done = k + 1
            if done % REPORT_EVERY == 0 or done == cfg.steps:
                r, q = rec_h[:done].cpu().numpy(), kl_h[:done].cpu().numpy()
                bad = ~np.isfinite(r + q)
                if bad.any() or any(not torch.isfinite(v).all() for v in p.values()):
                    diverged_at = int(np.argmax(bad)) + 1 if bad.any() else done
                    done = diverged_at
                    break
                with torch.no_grad():
                    eval_steps.append(done)
                    test_mse.append(_mse(p, Xt, kind))
                if on_step is not None:
                    on_step(done, r, q)
        with torch.no_grad():
            mu_t, logvar_t = encode(p, Xt, kind)
            x_hat_t = output(decode_logits(p, mu_t, kind), kind)
            if diverged_at is None and not bool(torch.isfinite(logvar_t).all()):
                diverged_at = done
    final = float("nan") if diverged_at is not None else float(((x_hat_t - Xt) ** 2).mean())
    weights = {k: _readonly(v.detach().float().cpu().numpy()) for k, v in p.items()}
    return AEResult(
        config=cfg,
        recon=_readonly(rec_h[:done].cpu().numpy()),
        kl=_readonly(kl_h[:done].cpu().numpy()),
        eval_steps=_readonly(np.array(eval_steps, dtype=np.int64)),
        test_mse=_readonly(np.array(test_mse, dtype=np.float64)),
        weights=weights,
        z_test=_readonly(mu_t.cpu().numpy()),
        logvar_test=_readonly(logvar_t.cpu().numpy()),
        x_test=_readonly(Xt.cpu().numpy()),
        y_test=_readonly(y_test.numpy()),
        x_hat_test=_readonly(x_hat_t.cpu().numpy()),
        final_mse=final,
        diverged_at=diverged_at,
        seconds=t[0],
        device=str(dev.type),
        steps_done=done,
        extra={"n_train": N},
    )


def _mse(p: dict, Xt: torch.Tensor, kind: str) -> float:
    mu, _ = encode(p, Xt, kind)
    return float(((output(decode_logits(p, mu, kind), kind) - Xt) ** 2).mean())


BENCH_TARGETS = {"ae": 0.040, "vae": 0.042}  # test MSE per pixel the defaults must reach


def bench() -> list[dict]:
    """Default AE and VAE on the digits: test MSE per pixel vs the stated target."""
    out = []
    for kind, target in BENCH_TARGETS.items():
        res = train(AEConfig(kind=kind))
        out.append(
            {
                "topic": "autoencoder",
                "task": kind,
                "metric": "test_mse",
                "target": target,
                "value": res.final_mse,
                "reached": bool(res.final_mse <= target),
                "seconds": res.seconds,
                "steps": res.steps_done,
                "device": res.device,
            }
        )
    return out
