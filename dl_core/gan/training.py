"""The training loop: the state, one fused hand-written iteration (and its autograd
reference), advance/train, the diagnoses, and the bench."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F

from dl_core import optim
from dl_core.device import pick
from dl_core.gan.config import (
    DIVERGED_ABS,
    GP_WEIGHT,
    MAX_STEPS,
    VIEW,
    WGAN_BETA2,
    GanConfig,
    sample_noise,
    sample_target,
    target_spec,
)
from dl_core.gan.model import (
    Net,
    backward,
    d_loss,
    d_loss_grad,
    forward,
    functional_forward,
    g_loss,
    g_loss_grad,
    init_net,
    n_params,
)
from dl_core.gan.theory import Coverage, grid_axis, js_divergence, kde_grid, mode_coverage
from dl_core.training import generator, one_thread, timer

# ---------------------------------------------------------------------------
# Training state, the fused step and the autograd reference step
# ---------------------------------------------------------------------------


@dataclass
class GanState:
    """Everything a live view needs between ticks (kept in state.session_state)."""

    cfg: GanConfig
    device: torch.device
    G: Net
    D: Net
    opt_G: optim.Flat
    opt_D: optim.Flat
    g_data: torch.Generator  # real batches and noise
    step: int = 0  # generator updates done
    diverged_at: int | None = None
    d_loss: list[float] = field(default_factory=list)  # per G step
    g_loss: list[float] = field(default_factory=list)
    log_D_real: list[float] = field(default_factory=list)  # mean log D(x) of the batch
    log_1m_D_fake: list[float] = field(default_factory=list)  # mean log(1 - D(G(z)))
    eval_steps: list[int] = field(default_factory=list)
    modes: list[int] = field(default_factory=list)
    quality: list[float] = field(default_factory=list)
    js: list[float] = field(default_factory=list)
    last_X: torch.Tensor | None = None  # (B, 2) real samples of the last generator step
    last_Z: torch.Tensor | None = None  # (B, n_z) its noise
    y: torch.Tensor | None = None  # (2B, 1) labels of a D batch: 1 real, 0 fake
    seconds: float = 0.0  # wall time spent in advance()


def choose_device(cfg: GanConfig) -> torch.device:
    """Rule: work = B x (parameters of the larger network), about the multiply-adds of
    one layer pass. Below 2^21 the ~60 small kernel launches of a step cost more on a
    GPU than the arithmetic on the CPU. Measured on an H100 host (torch 2.11): the
    default (work 0.6 M) runs at 1,282 steps/s on the CPU vs 743 on CUDA; B = 512 with
    2 x 128 units (work 8.7 M) at 265 vs 684; B = 1024 with 4 x 256 units at 18 vs 623."""
    work = cfg.batch_size * max(
        n_params((cfg.noise_dim, *cfg.g_hidden, 2)), n_params((2, *cfg.d_hidden, 1))
    )
    return pick(small=work < 2**21)


def init_state(cfg: GanConfig, device: torch.device | str | None = None) -> GanState:
    dev = torch.device(device) if device is not None else choose_device(cfg)
    g_init = generator(cfg.seed)
    G = init_net((cfg.noise_dim, *cfg.g_hidden, 2), cfg.activation, g_init, dev)
    D = init_net((2, *cfg.d_hidden, 1), cfg.activation, g_init, dev)
    beta2 = WGAN_BETA2 if cfg.loss == "wgan_gp" else 0.999
    return GanState(
        cfg=cfg,
        device=dev,
        G=G,
        D=D,
        opt_G=optim.Flat(
            optim.OptimConfig(cfg.g_optimizer, cfg.g_lr, beta1=cfg.beta1, beta2=beta2)
        ),
        opt_D=optim.Flat(
            optim.OptimConfig(cfg.d_optimizer, cfg.d_lr, beta1=cfg.beta1, beta2=beta2)
        ),
        g_data=generator(cfg.seed + 1, dev),
    )


def _draw(state: GanState, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Real batches X (n, d, B, 2) and noise Z (n, d, B, n_z) for n generator steps."""
    c = state.cfg
    X = sample_target(c.target, n * c.d_steps * c.batch_size, state.g_data, state.device)
    Z = sample_noise(c.noise, n * c.d_steps * c.batch_size, c.noise_dim, state.g_data, state.device)
    return X.view(n, c.d_steps, c.batch_size, 2), Z.view(n, c.d_steps, c.batch_size, -1)


def fused_iteration(state: GanState, X: torch.Tensor, Z: torch.Tensor):
    """One generator step with its d_steps discriminator steps, hand-written.
    X (d, B, 2) real, Z (d, B, n_z) noise; the generator step reuses the last
    noise batch (G has not changed since). Returns the logits (a_d (2B, 1) of the
    last D step, a_g (B, 1) of the G step)."""
    c = state.cfg
    y = state.y  # (2B, 1): 1 for real, 0 for fake
    for j in range(c.d_steps):
        hg = forward(state.G, Z[j])  # generator activations, (B, 2) out
        hd = forward(state.D, torch.cat([X[j], hg[-1]]))  # (2B, 1) logits
        backward(state.D, hd, d_loss_grad(c.loss, hd[-1], y))
        optim.update_(state.opt_D, state.D.flat, state.D.grad)
    a_d = hd[-1]
    hf = forward(state.D, hg[-1])  # updated D on the same fakes
    dx = backward(state.D, hf, g_loss_grad(c.loss, hf[-1]), params=False, dx=True)  # (B, 2)
    backward(state.G, hg, dx)
    optim.update_(state.opt_G, state.G.flat, state.G.grad)
    return a_d, hf[-1]


def autograd_iteration(state: GanState, X: torch.Tensor, Z: torch.Tensor):
    """The same iteration with autograd and the losses as formulas (``d_loss``,
    ``g_loss``); WGAN-GP adds alpha E[(||grad a(x~)|| - 1)^2] (alpha = GP_WEIGHT) on random
    points x~ = tau x + (1 - tau) G(z) between real and generated ones. Writes the gradients
    into ``net.grad`` and updates with the same optimizer, so the tests can compare it with
    ``fused_iteration``."""
    c = state.cfg
    B = c.batch_size
    sG, sD = state.G.sizes, state.D.sizes
    for j in range(c.d_steps):
        with torch.no_grad():
            fake = functional_forward(state.G.flat, sG, c.activation, Z[j])
        wD = state.D.flat.detach().requires_grad_()
        a = functional_forward(wD, sD, c.activation, torch.cat([X[j], fake]))  # (2B, 1)
        L = d_loss(c.loss, a[:B, 0], a[B:, 0])
        if c.loss == "wgan_gp":
            tau = torch.rand(B, 1, generator=state.g_data, device=state.device)
            x_tilde = (tau * X[j] + (1 - tau) * fake).requires_grad_()
            (gx,) = torch.autograd.grad(
                functional_forward(wD, sD, c.activation, x_tilde).sum(), x_tilde, create_graph=True
            )
            L = L + GP_WEIGHT * ((gx.norm(dim=1) - 1) ** 2).mean()
        (gD,) = torch.autograd.grad(L, wD)
        with torch.no_grad():
            state.D.grad.copy_(gD)
            optim.update_(state.opt_D, state.D.flat, state.D.grad)
    a_d = a.detach()
    wG = state.G.flat.detach().requires_grad_()
    fake = functional_forward(wG, sG, c.activation, Z[-1])
    a_g = functional_forward(state.D.flat, sD, c.activation, fake)  # (B, 1)
    (gG,) = torch.autograd.grad(g_loss(c.loss, a_g[:, 0]), wG)
    with torch.no_grad():
        state.G.grad.copy_(gG)
        optim.update_(state.opt_G, state.G.flat, state.G.grad)
    return a_d, a_g.detach()


def _record(state: GanState, a_ds: list[torch.Tensor], a_gs: list[torch.Tensor]) -> None:
    """Turn the logits of a chunk of steps into loss histories (a few ops per chunk)."""
    c = state.cfg
    B = c.batch_size
    A = torch.stack(a_ds)[..., 0].double()  # (K, 2B)
    Ag = torch.stack(a_gs)[..., 0].double()  # (K, B)
    ar, af = A[:, :B], A[:, B:]
    if c.loss in ("minimax", "nonsaturating"):
        Ld = F.softplus(-ar).mean(1) + F.softplus(af).mean(1)
    elif c.loss == "least_squares":
        Ld = 0.5 * ((ar - 1) ** 2).mean(1) + 0.5 * (af**2).mean(1)
    else:
        Ld = af.mean(1) - ar.mean(1)
    Lg = {
        "minimax": lambda: -F.softplus(Ag).mean(1),
        "nonsaturating": lambda: F.softplus(-Ag).mean(1),
        "least_squares": lambda: 0.5 * ((Ag - 1) ** 2).mean(1),
        "wgan_gp": lambda: -Ag.mean(1),
    }[c.loss]()
    # the terms of V(D, G), whatever the loss: D's logit read as a probability
    lr_ = -F.softplus(-ar).mean(1)
    lf = -F.softplus(af).mean(1)
    block = torch.stack([Ld, Lg, lr_, lf]).cpu().numpy()  # (4, K)
    state.d_loss += block[0].tolist()
    state.g_loss += block[1].tolist()
    state.log_D_real += block[2].tolist()
    state.log_1m_D_fake += block[3].tolist()


def generate(state: GanState, n: int, seed: int = 12345) -> tuple[torch.Tensor, torch.Tensor]:
    """n generated samples with a fixed noise draw: (z (n, n_z), G(z) (n, 2))."""
    with torch.no_grad():
        z = sample_noise(
            state.cfg.noise, n, state.cfg.noise_dim, generator(seed, state.device), state.device
        )
        return z, forward(state.G, z)[-1]


def evaluate(state: GanState, n: int = 1024, grid: int = 48) -> tuple[Coverage, float]:
    """Mode coverage and JS divergence (KDE on a grid) of n generated samples."""
    spec = target_spec(state.cfg.target)
    _, fake = generate(state, n)
    cov = mode_coverage(fake, spec)
    axis = grid_axis(grid)
    h = max(spec.sigma, 2 * VIEW / grid)
    real = sample_target(state.cfg.target, n, generator(54321))
    js = js_divergence(kde_grid(real, axis, h), kde_grid(fake.clamp(-50, 50), axis, h))
    return cov, js


def advance(state: GanState, n: int, use_autograd: bool = False) -> GanState:
    """Run n generator steps (fewer when it diverges); evaluates every eval_every steps.
    Mutates and returns ``state``. Divergence (non-finite or exploding samples) stops
    training and is recorded in ``state.diverged_at``, never raised."""
    c = state.cfg
    n = max(0, min(int(n), MAX_STEPS))
    if state.diverged_at is not None or n == 0:
        return state
    if state.y is None:
        state.y = torch.cat([torch.ones(c.batch_size, 1), torch.zeros(c.batch_size, 1)]).to(
            state.device
        )
    step_fn = autograd_iteration if (use_autograd or c.loss == "wgan_gp") else fused_iteration
    with one_thread(state.device), timer() as t:
        done = 0
        while done < n and state.diverged_at is None:
            # chunks end at evaluation points, so history does not depend on n
            k = min(n - done, c.eval_every - state.step % c.eval_every)
            X, Z = _draw(state, k)
            a_ds, a_gs = [], []
            with torch.no_grad() if step_fn is fused_iteration else torch.enable_grad():
                for i in range(k):
                    a_d, a_g = step_fn(state, X[i], Z[i])
                    a_ds.append(a_d)
                    a_gs.append(a_g)
            with torch.no_grad():
                _record(state, a_ds, a_gs)
                state.last_X, state.last_Z = X[-1, -1], Z[-1, -1]  # (B, 2), (B, n_z)
                state.step += k
                done += k
                bad = _first_bad(state, k)
                if bad is not None:  # keep the finite history for the plots
                    state.diverged_at = bad
                    for h in (state.d_loss, state.g_loss, state.log_D_real, state.log_1m_D_fake):
                        del h[bad - 1 :]
                    break
                if state.step % c.eval_every == 0:
                    cov, js = evaluate(state)
                    if not math.isfinite(js):
                        state.diverged_at = state.step
                        break
                    state.eval_steps.append(state.step)
                    state.modes.append(cov.covered)
                    state.quality.append(cov.quality)
                    state.js.append(js)
    state.seconds += t[0]
    return state


def _first_bad(state: GanState, k: int) -> int | None:
    """The first step of the last chunk whose losses are non-finite, or the chunk's
    end when the parameters or samples blew up; None when all is well."""
    recent = np.array([state.d_loss[-k:], state.g_loss[-k:]])
    bad = ~np.isfinite(recent).all(axis=0)
    if bad.any():
        return state.step - k + int(np.argmax(bad)) + 1
    if not (bool(torch.isfinite(state.G.flat).all()) and bool(torch.isfinite(state.D.flat).all())):
        return state.step
    _, fake = generate(state, 64)
    if not bool(torch.isfinite(fake).all()) or float(fake.abs().max()) > DIVERGED_ABS:
        return state.step
    return None


def hand_vs_autograd_gap(cfg: GanConfig, steps: int = 20) -> float:
    """max |theta_hand - theta_autograd| over both networks after ``steps`` steps of the
    fused hand-written iteration and of the autograd one, from the same start."""
    if cfg.loss == "wgan_gp":  # trained by autograd already: nothing to compare
        return 0.0
    cfg = replace(cfg, eval_every=max(steps, 1))
    a, b = init_state(cfg, "cpu"), init_state(cfg, "cpu")
    advance(a, steps)
    advance(b, steps, use_autograd=True)
    return max(float((a.G.flat - b.G.flat).abs().max()), float((a.D.flat - b.D.flat).abs().max()))


def diagnose(state: GanState) -> str | None:
    """A one-paragraph lesson when training diverged, else None."""
    if state.diverged_at is None:
        return None
    c = state.cfg
    sgd = [w for w, o in (("D", c.d_optimizer), ("G", c.g_optimizer)) if o == "sgd"]
    cause = (
        f"plain SGD on {' and '.join(sgd)} takes steps proportional to the gradient, and in "
        "a two-player game a too-large step overshoots and feeds on itself"
        if sgd
        else "the learning rates are so large that the two networks overshoot each other"
    )
    return (
        f"Training diverged at step {state.diverged_at}: a loss became infinite or NaN, or "
        f"the generated samples flew beyond {DIVERGED_ABS:g}. Likely cause: {cause} "
        f"(D's learning rate {c.d_lr:g}, G's {c.g_lr:g}). Lower the learning rates or use Adam."
    )


def collapse_note(state: GanState) -> str | None:
    """A lesson when, after a fair number of steps, the generator covers few modes."""
    if not state.modes or state.step < 1000:
        return None
    covered, n = state.modes[-1], target_spec(state.cfg.target).n_modes
    if covered > n // 2:
        return None
    return (
        f"Mode collapse: after {state.step} steps the generator covers only {covered} of "
        f"{n} modes. G found a few places where D is fooled and keeps its samples there; "
        "when D catches up, G hops elsewhere instead of spreading out. What helps: a larger "
        "generator, balanced learning rates (D not far faster than G), the non-saturating or "
        "least-squares loss, a larger batch, or a different seed."
    )


def thin(values, max_points: int = 1000) -> tuple[np.ndarray, np.ndarray, int]:
    """A long per-step history (K,) as at most ``max_points`` block means: (steps (n,) at
    the centre of each block, counted from 1, means (n,), block length k). A live chart of
    20,000 steps would otherwise send 20,000 points per curve with every frame."""
    y = np.asarray(values, dtype=np.float64)
    K = len(y)
    k = max(1, math.ceil(K / max(1, max_points)))
    if k == 1:
        return np.arange(1, K + 1, dtype=np.float64), y, 1
    n = K // k  # full blocks; a shorter last block keeps the newest steps on the chart
    means = y[: n * k].reshape(n, k).mean(1)
    steps = np.arange(n) * k + (k + 1) / 2
    if n * k < K:
        means = np.append(means, y[n * k :].mean())
        steps = np.append(steps, (n * k + 1 + K) / 2)
    return steps, means, k


@dataclass(frozen=True)
class GanResult:
    config: GanConfig
    d_loss: np.ndarray  # (K,) discriminator loss per generator step
    g_loss: np.ndarray  # (K,)
    log_D_real: np.ndarray  # (K,) mean log D(x) of each batch
    log_1m_D_fake: np.ndarray  # (K,) mean log(1 - D(G(z)))
    eval_steps: np.ndarray  # (E,) steps at which the metrics were measured
    modes: np.ndarray  # (E,) modes covered
    quality: np.ndarray  # (E,) share of high-quality samples
    js: np.ndarray  # (E,) Jensen-Shannon divergence on the grid
    fake: np.ndarray  # (n, 2) final generated samples
    G_params: np.ndarray  # (P_G,) final generator parameters
    D_params: np.ndarray  # (P_D,)
    n_modes: int
    diverged_at: int | None
    device: str
    seconds: float

    @property
    def first_full_coverage(self) -> int | None:
        """The first evaluated step with every mode covered."""
        hit = np.nonzero(self.modes == self.n_modes)[0]
        return int(self.eval_steps[hit[0]]) if len(hit) else None


def result_of(state: GanState, n_fake: int = 1024) -> GanResult:
    _, fake = generate(state, n_fake)
    return GanResult(
        config=state.cfg,
        d_loss=np.array(state.d_loss),
        g_loss=np.array(state.g_loss),
        log_D_real=np.array(state.log_D_real),
        log_1m_D_fake=np.array(state.log_1m_D_fake),
        eval_steps=np.array(state.eval_steps, dtype=np.int64),
        modes=np.array(state.modes, dtype=np.int64),
        quality=np.array(state.quality),
        js=np.array(state.js),
        fake=fake.cpu().numpy(),
        G_params=state.G.flat.detach().cpu().numpy().copy(),
        D_params=state.D.flat.detach().cpu().numpy().copy(),
        n_modes=target_spec(state.cfg.target).n_modes,
        diverged_at=state.diverged_at,
        device=state.device.type,
        seconds=state.seconds,
    )


def train(cfg: GanConfig, device=None, on_step=None, use_autograd: bool = False) -> GanResult:
    """Train for cfg.steps generator steps. ``on_step(step, state)`` is called at
    every evaluation point (for progress bars)."""
    state = init_state(cfg, device)
    while state.step < cfg.steps and state.diverged_at is None:
        advance(state, min(cfg.eval_every, cfg.steps - state.step), use_autograd=use_autograd)
        if on_step is not None:
            on_step(state.step, state)
    return result_of(state)


# ---------------------------------------------------------------------------
# Bench
# ---------------------------------------------------------------------------


def bench() -> list[dict]:
    """The default GAN on the ring of 8 Gaussians: modes covered after the default
    number of steps, and the wall time (target: all 8 in 2 s on 2 CPU threads)."""
    cfg = GanConfig()
    res = train(cfg)
    return [
        {
            "topic": "gan",
            "task": "ring8",
            "metric": "modes_covered",
            "target": 8,
            "value": int(res.modes[-1]) if len(res.modes) else 0,
            "reached": bool(len(res.modes) and res.modes[-1] >= 8),
            "seconds": res.seconds,
            "steps": len(res.d_loss),
            "first_full_coverage_step": res.first_full_coverage,
            "device": res.device,
        }
    ]
