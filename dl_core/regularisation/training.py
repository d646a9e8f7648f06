"""Training M models at once (penalties, dropout, early stopping), the sweeps, the torch
reference checks, and the bench."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from dl_core import optim
from dl_core.regularisation.batchnorm import BNConfig, train_bn
from dl_core.regularisation.data import make_data
from dl_core.regularisation.formulas import DTYPE, soft_threshold
from dl_core.regularisation.network import (
    ALPHAS,
    DIVERGENCE_LIMIT,
    OPTIMIZERS,
    P_GRID,
    RECORDS,
    FitConfig,
    FitResult,
    Variant,
    _Batch,
    _scaled_masks,
    data_loss,
    forward,
    gradient,
    init_theta,
    predict,
    views,
    weight_mask,
)
from dl_core.training import check_choice, generator, one_thread, timer


def train(
    cfg: FitConfig, variants: tuple[Variant, ...] | None = None, optimizer: str | None = None
) -> FitResult:
    """Train one network per variant, all at once, from the same θ₀ on the same data.
    Default: the one model that ``cfg`` describes."""
    variants = variants or (Variant(cfg.penalty, cfg.alpha, cfg.p),)
    opt = optimizer or cfg.optimizer
    check_choice("optimizer", opt, OPTIMIZERS)
    M, d, H = len(variants), cfg.d_in, cfg.width
    data = make_data(cfg.data, cfg.n, cfg.noise, cfg.data_seed)
    N, task, lr = cfg.n, cfg.task, cfg.lr
    n_v = data.X_val.shape[0]
    X_eval = torch.cat([data.X_train, data.X_val, data.X_test])  # one forward per record
    y_eval = torch.cat([data.y_train, data.y_val, data.y_test])
    parts = ((0, N), (N, N + n_v), (N + n_v, len(X_eval)))
    with torch.no_grad(), one_thread(), timer() as t:
        theta0 = init_theta(d, H, cfg.seed)
        net = _Batch(theta0.expand(M, -1).contiguous(), d, H)
        theta = net.theta  # (M, P), updated in place
        wmask = weight_mask(d, H)

        def coef(*kinds):  # (M, P): α on the weights of the models with this penalty
            a = torch.tensor(
                [v.alpha if v.penalty in kinds else 0.0 for v in variants], dtype=DTYPE
            )
            return a[:, None] * wmask if bool((a > 0).any()) else None

        a_l2, a_l1, a_decay, a_prox = coef("l2"), coef("l1"), coef("decay"), coef("l1_prox")
        ps = torch.tensor([v.p for v in variants], dtype=DTYPE)
        dropping = bool((ps > 0).any())
        ocfg = optim.OptimConfig(opt, lr=lr)
        state = optim.init_state(ocfg, theta)
        g_mask = generator(cfg.seed + 1)
        every = max(1, cfg.steps // RECORDS)
        rec: dict[str, list] = {k: [] for k in ("steps", "train", "val", "test", "acc", "dist")}
        best_val = torch.full((M,), math.inf, dtype=DTYPE)
        best_idx = torch.zeros(M, dtype=torch.long)
        theta_best = theta.clone()
        diverged: list[int | None] = [None] * M
        last: dict[str, torch.Tensor] = {}
        nan = torch.tensor(math.nan, dtype=DTYPE)

        def record(k: int) -> None:
            out = forward(theta, X_eval, d, H, v=net.v)[0]  # (M, N_eval, 1)
            bad = ~torch.isfinite(theta).all(1) | (theta.abs().amax(1) > DIVERGENCE_LIMIT)
            for m in torch.nonzero(bad).ravel().tolist():
                diverged[m] = k if diverged[m] is None else diverged[m]
            losses = [
                torch.where(bad, nan, data_loss(task, out[:, i:j], y_eval[i:j])) for i, j in parts
            ]
            val = losses[1].nan_to_num(math.inf)
            better = val < best_val
            best_val[better] = val[better]
            best_idx[better] = len(rec["steps"])
            theta_best[better] = theta[better]
            for key, x in zip(("train", "val", "test"), losses, strict=True):
                rec[key].append(x)
            i = parts[2][0]
            hit = (out[:, i:] > 0) == (y_eval[i:] > 0.5)
            rec["acc"].append(hit.to(DTYPE).mean((1, 2)) if task == "binary" else nan.expand(M))
            rec["dist"].append((theta - theta0).norm(dim=1))
            rec["steps"].append(k)

        record(0)
        for k in range(1, cfg.steps + 1):
            masks = _scaled_masks(ps, M, N, H, g_mask) if dropping else None
            net.backward(data.X_train, data.y_train, task, masks)
            g = net.grad
            if a_l2 is not None:  # L2 in the loss: + α w in the gradient
                g = g + a_l2 * theta
            if a_l1 is not None:  # L1's subgradient: + α sign(w)
                g = g + a_l1 * torch.sign(theta)
            start = theta if a_decay is None else theta - lr * a_decay * theta  # (1 − ηα) w
            new, state, terms = optim.step(ocfg, start, g, state, k)
            if a_prox is not None:
                new = soft_threshold(new, lr * a_prox)  # threshold 0 leaves a model untouched
            if k == cfg.steps:
                last = {"theta_prev": theta.clone(), "g": net.grad.clone(), "g_pen": g - net.grad,
                        "decayed": start.clone(), "theta": new,
                        **{f"opt_{n}": v for n, v in terms.items()}}  # fmt: skip
            theta.copy_(new)
            if k % every == 0 or k == cfg.steps:
                record(k)
                if all(x is not None for x in diverged):
                    break
        pred = predict(theta, data.grid, d, H, task)
        pred_best = predict(theta_best, data.grid, d, H, task)
    stack = lambda key: torch.stack(rec[key], 1).numpy()  # noqa: E731  (M, R)
    return FitResult(
        config=cfg, variants=tuple(variants), optimizer=opt, steps=np.array(rec["steps"]),
        train=stack("train"), val=stack("val"), test=stack("test"), accuracy=stack("acc"),
        dist=stack("dist"), best=best_idx.numpy(), theta0=theta0.numpy(), theta=theta.numpy(),
        theta_best=theta_best.numpy(), pred=pred.numpy(), pred_best=pred_best.numpy(),
        last={k: v.numpy() for k, v in last.items()}, diverged_at=tuple(diverged), seconds=t[0],
    )  # fmt: skip


def sweep_penalty(cfg: FitConfig) -> str:
    """The penalty a sweep over α uses: the learner's, or L2 when none is chosen."""
    return cfg.penalty if cfg.penalty != "none" else "l2"


def alpha_sweep(cfg: FitConfig) -> FitResult:
    """No penalty, then the sweep's penalty at every α of ``ALPHAS`` (the learner's p)."""
    kind = sweep_penalty(cfg)
    variants = (Variant("none", 0.0, cfg.p), *(Variant(kind, a, cfg.p) for a in ALPHAS))
    return train(cfg, variants)


def p_sweep(cfg: FitConfig) -> FitResult:
    """Dropout at every p of ``P_GRID`` (the learner's penalty and α)."""
    return train(cfg, tuple(Variant(cfg.penalty, cfg.alpha, p) for p in P_GRID))


def decoupling(cfg: FitConfig) -> dict[str, FitResult]:
    """L2 in the loss against decoupled weight decay, same α, with SGD and with Adam
    (model 0: "l2", model 1: "decay"). With SGD the two are one update; with Adam they
    differ: L2's α w passes through Adam's division by √ŝ, decay's does not (AdamW)."""
    alpha = cfg.alpha if cfg.alpha > 0 else 1e-3
    pair = (Variant("l2", alpha, cfg.p), Variant("decay", alpha, cfg.p))
    return {o: train(cfg, pair, optimizer=o) for o in OPTIMIZERS}


def nearest_alpha(alpha: float) -> int:
    """The index in ``alpha_sweep``'s models of the α of ``ALPHAS`` nearest to ``alpha`` (log scale)."""
    return 1 + int(np.argmin([abs(math.log(a / max(alpha, 1e-12))) for a in ALPHAS]))


def largest_weight(res: FitResult, m: int = 0) -> int:
    """The index in θ of model m's largest weight (in size) before its last step."""
    mask = weight_mask(res.config.d_in, res.config.width).numpy()
    return int(np.argmax(np.abs(res.last["theta_prev"][m]) * mask))


def weights(res: FitResult, m: int = 0, best: bool = False) -> np.ndarray:
    """Model m's weights (not biases), final or at its checkpoint."""
    mask = weight_mask(res.config.d_in, res.config.width).numpy() > 0
    return (res.theta_best if best else res.theta)[m][mask]


def diagnose(res: FitResult, m: int = 0) -> str | None:
    """A lesson when model m diverged, else None."""
    k = res.diverged_at[m]
    if k is None:
        return None
    cfg, v = res.config, res.variants[m]
    msg = f"Training diverged by step {k}: the weights grew beyond {DIVERGENCE_LIMIT:.0e}."
    factor = 1 - cfg.lr * v.alpha
    if v.penalty in ("l2", "decay") and res.optimizer == "sgd" and factor < -1:
        return (f"{msg} With η = {cfg.lr:g} and α = {v.alpha:g} the decay factor 1 − ηα = "
                f"{factor:.3g} has a size above 1: every step flips the weights' sign and "
                "grows them. The penalty itself needs ηα < 2; lower η or α.")  # fmt: skip
    if res.optimizer == "sgd":
        return (f"{msg} With SGD, η = {cfg.lr:g} overshoots the loss's steepest curvature "
                "(η must stay below 2/λ_max of the Hessian): lower the learning rate.")  # fmt: skip
    return f"{msg} Lower the learning rate η = {cfg.lr:g}."


# ---------------------------------------------------------------------------
# torch references (the tests' and the page's proof)
# ---------------------------------------------------------------------------


def torch_net(cfg: FitConfig, theta: np.ndarray | torch.Tensor) -> torch.nn.Sequential:
    """nn.Linear + nn.Tanh with the weights of the flat θ (P,)."""
    d, H = cfg.d_in, cfg.width
    net = torch.nn.Sequential(
        torch.nn.Linear(d, H), torch.nn.Tanh(), torch.nn.Linear(H, H), torch.nn.Tanh(),
        torch.nn.Linear(H, 1),
    ).to(DTYPE)  # fmt: skip
    v = views(torch.as_tensor(theta, dtype=DTYPE)[None], d, H)
    with torch.no_grad():
        for i, lin in enumerate(net[::2], start=1):
            lin.weight.copy_(v[f"W{i}"][0].T)  # nn.Linear keeps (out, in)
            lin.bias.copy_(v[f"b{i}"][0, 0])
    return net


def torch_flat(net: torch.nn.Sequential) -> np.ndarray:
    """The flat θ (P,) of ``torch_net``'s parameters."""
    return (
        torch.cat([t for lin in net[::2] for t in (lin.weight.T.ravel(), lin.bias)])
        .detach()
        .numpy()
    )


def reference_run(cfg: FitConfig, variant: Variant, optimizer: str, steps: int) -> np.ndarray:
    """The same training (no dropout) with nn.Sequential, autograd and torch.optim: L2 as
    the optimizer's ``weight_decay`` on the weights' group, decoupled decay as
    ``torch.optim.AdamW`` (SGD: its weight_decay, the same update), L1 as α‖w‖₁ added to
    the loss. Returns θ after ``steps`` steps."""
    if variant.p > 0 or variant.penalty == "l1_prox":
        raise ValueError("the torch reference covers runs without dropout or the proximal step")
    data = make_data(cfg.data, cfg.n, cfg.noise, cfg.data_seed)
    net = torch_net(cfg, init_theta(cfg.d_in, cfg.width, cfg.seed))
    ws = [lin.weight for lin in net[::2]]
    bs = [lin.bias for lin in net[::2]]
    wd = variant.alpha if variant.penalty in ("l2", "decay") else 0.0
    groups = [{"params": ws, "weight_decay": wd}, {"params": bs, "weight_decay": 0.0}]
    if optimizer == "sgd":
        opt = torch.optim.SGD(groups, lr=cfg.lr)
    elif variant.penalty == "decay":
        opt = torch.optim.AdamW(groups, lr=cfg.lr)
    else:
        opt = torch.optim.Adam(groups, lr=cfg.lr)
    lossf = torch.nn.MSELoss() if cfg.task == "regression" else torch.nn.BCEWithLogitsLoss()
    for _ in range(steps):
        opt.zero_grad()
        loss = lossf(net(data.X_train), data.y_train)
        if variant.penalty == "l1":
            loss = loss + variant.alpha * sum(w.abs().sum() for w in ws)
        loss.backward()
        opt.step()
    return torch_flat(net)


@dataclass(frozen=True)
class Checks:
    """max |hand-written − torch| of the page's claims, for the current config."""

    gradient: float  # the backward pass (with a dropout mask) vs autograd
    optimizer: float  # 50 steps of train() vs nn + torch.optim with the same penalty
    reference: str  # what torch.optim ran


def checks(cfg: FitConfig, steps: int = 50) -> Checks:
    d, H = cfg.d_in, cfg.width
    data = make_data(cfg.data, cfg.n, cfg.noise, cfg.data_seed)
    theta = init_theta(d, H, cfg.seed)[None]
    p = cfg.p if cfg.p > 0 else 0.5
    masks = _scaled_masks(torch.tensor([p], dtype=DTYPE), 1, cfg.n, H, generator(cfg.seed))
    _, mine = gradient(theta, data.X_train, data.y_train, d, H, cfg.task, masks)
    th = theta.clone().requires_grad_()
    data_loss(cfg.task, forward(th, data.X_train, d, H, masks)[0], data.y_train).sum().backward()
    penalty_kind = "l1" if cfg.penalty == "l1_prox" else cfg.penalty
    v = Variant(penalty_kind, cfg.alpha if penalty_kind != "none" else 0.0)
    short = FitConfig(
        **{**cfg.__dict__, "steps": steps, "p": 0.0, "penalty": v.penalty, "alpha": v.alpha}
    )
    gap = float(np.abs(train(short).theta[0] - reference_run(short, v, cfg.optimizer, steps)).max())
    ref = {
        "sgd": "torch.optim.SGD",
        "adam": "torch.optim.AdamW" if v.penalty == "decay" else "torch.optim.Adam",
    }
    return Checks(float((mine - th.grad).abs().max()), gap, ref[cfg.optimizer])


# ---------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------


def bench() -> list[dict]:
    """The page's defaults: the early-stopped model's test loss against the best final test
    loss over the α sweep (target: within 5%), and the time of the fit, the sweep and the
    batch-norm experiment."""
    cfg = FitConfig()
    with timer() as t_fit:
        fit = train(cfg)
    sweep = alpha_sweep(cfg)
    ratio = float(fit.at_best(fit.test)[0] / np.nanmin(sweep.test[1:, -1]))
    bn = train_bn(BNConfig())
    return [
        {"topic": "regularisation", "task": "early_stopping_vs_l2", "metric": "test_loss_ratio",
         "target": 1.05, "value": ratio, "reached": ratio <= 1.05, "seconds": t_fit[0],
         "steps": int(fit.best_step[0])},
        {"topic": "regularisation", "task": "alpha_sweep", "metric": "seconds", "target": None,
         "value": sweep.seconds, "reached": None, "seconds": sweep.seconds,
         "steps": cfg.steps * len(sweep.variants)},
        {"topic": "regularisation", "task": "batch_norm_deep_sigmoid", "metric": "test_accuracy",
         "target": 0.9, "value": bn.with_bn.test_acc, "reached": bn.with_bn.test_acc >= 0.9,
         "seconds": bn.with_bn.seconds + bn.without.seconds, "steps": 2 * BNConfig().steps},
    ]  # fmt: skip
