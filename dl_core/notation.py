"""One notation for the whole app: a symbol means one thing on every page.

Every page's symbol caption is drawn from ``SYMBOLS`` (``caption("theta", "eta")``) and Home
shows the whole table. Conventions, as in Goodfellow et al., *Deep Learning*, where they
choose one:

- indices: step k (of an optimizer), layer l, time step t, sample i, unit j;
- a layer computes the pre-activation a⁽ˡ⁾ = W⁽ˡ⁾ h⁽ˡ⁻¹⁾ + b⁽ˡ⁾ and the activation
  h⁽ˡ⁾ = φ(a⁽ˡ⁾), with h⁽⁰⁾ = x; z is only ever a latent code (autoencoder, VAE, GAN);
- λ is only ever an eigenvalue (of the Hessian H, or of a matrix); a penalty's or weight
  decay's strength is α; momentum's coefficient is β, and Adam's decay rates β₁, β₂;
- L is only ever a loss; the curvatures of a quadratic are λ_min and λ_max (the
  optimisation literature's μ and L), κ = λ_max/λ_min the condition number; μ is a mean.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Symbol:
    key: str  # how code names it
    latex: str  # in formulas
    text: str  # in captions, chart labels and widgets (Unicode)
    meaning: str
    topic: str  # where it is introduced


SYMBOLS: tuple[Symbol, ...] = (
    # optimisation
    Symbol("theta", r"\theta", "θ", "the parameters (every weight and bias)", "Gradient descent"),
    Symbol("theta_star", r"\theta^*", "θ*", "the parameters at a minimum", "Gradient descent"),
    Symbol("L", r"L", "L", "the loss (of a model, on its data)", "Gradient descent"),
    Symbol("f", r"f", "f", "a function to minimise (a loss surface)", "Gradient descent"),
    Symbol("grad", r"\nabla f", "∇f", "the gradient: the vector of partial derivatives", "Gradient descent"),
    Symbol("eta", r"\eta", "η", "the learning rate (step size)", "Gradient descent"),
    Symbol("k", r"k", "k", "the step number of an optimizer", "Gradient descent"),
    Symbol("H", r"H", "H", "the Hessian: the matrix of second derivatives", "Gradient descent"),
    Symbol("lambda", r"\lambda", "λ", "an eigenvalue (of the Hessian, or of a matrix)", "Gradient descent"),
    Symbol("lambda_min", r"\lambda_{\min}, \lambda_{\max}", "λ_min, λ_max", "the smallest and largest eigenvalues of H: the flattest and steepest curvatures", "Gradient descent"),
    Symbol("kappa", r"\kappa", "κ", "the condition number λ_max/λ_min", "Gradient descent"),
    Symbol("mu", r"\mu", "μ", "a mean (of a batch, of a distribution)", "Math toolkit"),
    Symbol("A", r"A", "A", "a matrix; on the Math toolkit a 2 × 2 one, the map x ↦ Ax of the plane", "Math toolkit"),
    Symbol("v_eig", r"v_1, v_2", "v₁, v₂", "the eigenvectors of a matrix, A vᵢ = λᵢ vᵢ (momentum's velocity v carries a step index k)", "Math toolkit"),
    Symbol("det", r"\det A", "det A", "the determinant: the factor by which A scales areas (negative: it also mirrors)", "Math toolkit"),
    Symbol("svd", r"U, \Sigma, V", "U, Σ, V", "the singular value decomposition A = U Σ Vᵀ: rotations U and Vᵀ, stretches Σ = diag(σ₁, σ₂)", "Math toolkit"),
    Symbol("sigma_i", r"\sigma_1, \sigma_2", "σ₁, σ₂", "the singular values of a matrix (with an index; σ alone is a standard deviation)", "Math toolkit"),
    Symbol("u_dir", r"u", "u", "a unit vector: a direction (D_u f = ∇f · u)", "Math toolkit"),
    Symbol("D_u", r"D_u f", "D_u f", "the directional derivative of f along u: its slope in that direction", "Math toolkit"),
    Symbol("normal", r"\mathcal N(\mu, \sigma^2)", "N(μ, σ²)", "the Gaussian (normal) distribution with mean μ and standard deviation σ", "Math toolkit"),
    Symbol("x_bar", r"\bar x, \hat\sigma", "x̄, σ̂", "a sample's mean and standard deviation, σ̂² = (1/n) Σ (xᵢ − x̄)²: the maximum-likelihood estimates of μ, σ", "Math toolkit"),
    Symbol("loglik", r"\ell", "ℓ", "the mean log-likelihood (1/n) Σ log p(xᵢ) of a model's parameters", "Math toolkit"),
    Symbol("eps_noise", r"\varepsilon", "ε", "standard normal noise ε ~ N(0, 1) in the reparameterisation z = μ + σ ε", "Math toolkit"),
    Symbol("P_Q", r"P, Q", "P, Q", "two distributions over a few outcomes x; P(x) is the probability of x", "Math toolkit"),
    Symbol("entropy", r"H(P), H(P, Q)", "H(P), H(P, Q)", "the entropy of P and the cross-entropy of Q under P (H with an argument; H alone is the Hessian)", "Math toolkit"),
    Symbol("q", r"q", "q", "an approximating distribution: a Gaussian fitted to p, the VAE's q(z∣x)", "Math toolkit"),
    Symbol("beta", r"\beta", "β", "momentum's coefficient (the share of the last step kept)", "Gradient descent"),
    Symbol("v", r"v", "v", "the velocity: momentum's running sum of gradients", "Gradient descent"),
    Symbol("beta1", r"\beta_1", "β₁", "Adam's decay rate of the gradient's mean", "Gradient descent"),
    Symbol("beta2", r"\beta_2", "β₂", "Adam's decay rate of the squared gradient's mean", "Gradient descent"),
    Symbol("m_hat", r"\hat m, \hat s", "m̂, ŝ", "Adam's bias-corrected first and second moments (v is momentum's velocity)", "Gradient descent"),
    Symbol("epsilon", r"\epsilon", "ε", "a small constant against division by zero; a finite-difference step", "Gradient descent"),
    Symbol("s_sq", r"s, \hat s", "s, ŝ", "the running mean of squared gradients (RMSProp, Adam; the Adam paper's v, renamed as v is the velocity)", "Gradient descent"),
    Symbol("rho", r"\rho", "ρ", "RMSProp's decay rate of the squared gradient's mean (torch's alpha)", "Gradient descent"),
    Symbol("e_k", r"e_k", "eₖ", "the error θₖ − θ* after step k", "Gradient descent"),
    Symbol("M_lambda", r"M_\lambda", "M_λ", "momentum's 2×2 iteration matrix along the eigenvector of λ", "Gradient descent"),
    Symbol("alpha", r"\alpha", "α", "the strength of a penalty or of weight decay", "Regularisation"),
    # regularisation
    Symbol("L_tilde", r"\tilde L", "L̃", "the penalised loss L + αΩ, what the optimizer minimises", "Regularisation"),
    Symbol("Omega", r"\Omega(\theta)", "Ω(θ)", "a penalty on the weights (never the biases): ½ Σ w² for L2, Σ |w| for L1", "Regularisation"),
    Symbol("k_star", r"k^*", "k*", "the step with the lowest validation loss: early stopping's checkpoint", "Regularisation"),
    Symbol("r_mask", r"r_j", "rⱼ", "unit j's dropout mask, rⱼ ~ Bernoulli(1 − p): 1 keeps the unit, 0 drops it", "Regularisation"),
    Symbol("h_drop", r"h^{\mathrm{drop}}", "h^drop", "a unit's output in training with dropout, r h/(1 − p); in evaluation it is h", "Regularisation"),
    Symbol("a_hat", r"\hat a", "â", "batch norm's normalised pre-activation (a − μ_B)/√(σ_B² + ε)", "Regularisation"),
    Symbol("mu_run", r"\mu_{\mathrm{run}}, \sigma^2_{\mathrm{run}}", "μ_run, σ²_run", "batch norm's running averages of μ_B and σ_B², used in evaluation", "Regularisation"),
    Symbol("x_std", r"x^{\mathrm{std}}", "x^std", "a standardised input (x − μ)/σ, with μ and σ of the training set", "Regularisation"),
    # models and data
    Symbol("x", r"x", "x", "an input (a point, an image, a sequence element)", "Regression"),
    Symbol("y", r"y", "y", "a target (label or value)", "Regression"),
    Symbol("y_hat", r"\hat y", "ŷ", "the model's prediction", "Regression"),
    Symbol("w", r"w", "w", "a weight (w₁ x₁ + … in a linear model)", "Regression"),
    Symbol("b", r"b", "b", "a bias", "Regression"),
    Symbol("i", r"i", "i", "the index of a sample, 1 … n", "Regression"),
    Symbol("n", r"n", "n", "the number of samples", "Regression"),
    Symbol("B", r"B", "B", "a mini-batch (and its size |B|)", "Regression"),
    Symbol("sigma_fn", r"\sigma", "σ", "σ(·), a function: the logistic sigmoid 1/(1 + e⁻ˢ); σ, a number: a standard deviation", "Regression"),
    # networks
    Symbol("l", r"l", "l", "the index of a layer, 1 … depth", "Backpropagation"),
    Symbol("W", r"W^{(l)}", "W⁽ˡ⁾", "layer l's weight matrix (rows: its units, columns: its inputs, as torch.nn.Linear)", "Backpropagation"),
    Symbol("b_l", r"b^{(l)}", "b⁽ˡ⁾", "layer l's bias vector", "Backpropagation"),
    Symbol("a", r"a^{(l)}", "a⁽ˡ⁾", "layer l's pre-activation W⁽ˡ⁾ h⁽ˡ⁻¹⁾ + b⁽ˡ⁾", "Backpropagation"),
    Symbol("h", r"h^{(l)}", "h⁽ˡ⁾", "layer l's activation φ(a⁽ˡ⁾), with h⁽⁰⁾ = x", "Backpropagation"),
    Symbol("phi", r"\varphi", "φ", "an activation function (ReLU, tanh, sigmoid)", "Backpropagation"),
    Symbol("delta", r"\delta^{(l)}", "δ⁽ˡ⁾", "the error signal ∂L/∂a⁽ˡ⁾ carried backward", "Backpropagation"),
    Symbol("p", r"p", "p", "the dropout probability (of zeroing a unit); a distribution is p with a subscript, p_data, p_g", "Playground"),
    Symbol("gamma_bn", r"\gamma, \beta_{\mathrm{BN}}", "γ, β_BN", "batch norm's learned scale and shift", "Playground"),
    Symbol("mu_B", r"\mu_B, \sigma_B^2", "μ_B, σ_B²", "batch norm's batch mean and variance (training)", "Playground"),
    Symbol("K", r"K", "K", "a convolution kernel (filter)", "CNN"),
    Symbol("conv_rc", r"r, c", "r, c", "a row and a column of an image or a feature map (from 0, as in code)", "CNN"),
    Symbol("conv_uv", r"u, v", "u, v", "a row and a column of a kernel", "CNN"),
    Symbol("conv_sizes", r"n_x, n_K, n_a", "n_x, n_K, n_a", "a convolution's sizes in pixels a side: the input's, the kernel's, the output's", "CNN"),
    Symbol("stride", r"S", "S", "a convolution's stride: the step from one position of the kernel to the next", "CNN"),
    Symbol("padding", r"P", "P", "a convolution's zero padding: rows and columns of zeros added on each side", "CNN"),
    Symbol("dilation", r"d", "d", "a convolution's dilation: the step between two taps of the kernel", "CNN"),
    Symbol("h_pool", r"\tilde h", "h̃", "a pooled feature map", "CNN"),
    Symbol("t", r"t", "t", "the time step of a sequence, 1 … T", "RNN"),
    Symbol("h_t", r"h_t", "hₜ", "the hidden state at time t", "RNN"),
    Symbol("c_t", r"c_t", "cₜ", "the LSTM's cell state at time t", "RNN"),
    Symbol("gates", r"i_t, f_t, o_t", "iₜ, fₜ, oₜ", "the LSTM's input, forget and output gates", "RNN"),
    Symbol("d_h", r"d_h", "d_h", "the size of the hidden state hₜ (the number of hidden units)", "RNN"),
    Symbol("W_ih", r"W_{ih}, W_{hh}, W_{hy}", "W_ih, W_hh, W_hy", "an RNN's input-to-hidden, hidden-to-hidden and readout weights, the same at every step (torch.nn's layout)", "RNN"),
    Symbol("gru_gates", r"r_t, u_t", "rₜ, uₜ", "the GRU's reset and update gates; the update gate is z_t in Cho et al. and PyTorch, u_t here (as in Goodfellow et al.) since z is a latent code", "RNN"),
    Symbol("candidate", r"g_t, n_t", "gₜ, nₜ", "a step's candidate values: the LSTM's gₜ, the GRU's nₜ (h̃ₜ in Cho et al.)", "RNN"),
    Symbol("odot", r"\odot", "⊙", "the element-wise (Hadamard) product", "RNN"),
    Symbol("z", r"z", "z", "a latent code (autoencoder, VAE, the GAN's noise)", "Autoencoder"),
    Symbol("d_z", r"d_z", "d_z", "the latent dimension (the size of z)", "Autoencoder"),
    Symbol("x_hat", r"\hat x", "x̂", "a reconstruction of the input x", "Autoencoder"),
    Symbol("enc_dec", r"f_{\mathrm{enc}}, g_{\mathrm{dec}}", "f_enc, g_dec", "the encoder and the decoder; θ all their parameters (Kingma & Welling write φ and θ; φ is an activation here)", "Autoencoder"),
    Symbol("beta_vae", r"\beta", "β (VAE)", "the weight of the VAE's KL term, the β of the β-VAE (Higgins et al. 2017); β = 1 is the plain VAE", "Autoencoder"),
    Symbol("mu_z", r"\mu(x), \sigma(x)", "μ(x), σ(x)", "the VAE encoder's mean and standard deviation of q(z|x)", "Autoencoder"),
    Symbol("KL", r"D_{\mathrm{KL}}", "D_KL", "the Kullback-Leibler divergence", "Autoencoder"),
    Symbol("G", r"G", "G", "the GAN's generator", "GAN"),
    Symbol("D", r"D", "D", "the GAN's discriminator; D* the optimal one", "GAN"),
    Symbol("JS", r"\mathrm{JS}", "JS", "the Jensen-Shannon divergence", "GAN"),
    Symbol("p_data", r"p_{\text{data}}, p_g", "p_data, p_g", "the data's distribution and the generator's", "GAN"),
    Symbol("p_z", r"p_z", "p_z", "the distribution the GAN's noise z is drawn from", "GAN"),
    Symbol("V", r"V(D, G)", "V", "the value of the GAN game: D maximises it, G minimises it", "GAN"),
    Symbol("x_tilde", r"\tilde x, \tau", "x̃, τ", "WGAN-GP's random point x̃ = τ x + (1 − τ) G(z) between a real and a generated sample, τ ~ U[0, 1] (x̂ and ε in Gulrajani et al.)", "GAN"),
)  # fmt: skip

BY_KEY: dict[str, Symbol] = {s.key: s for s in SYMBOLS}


def _check() -> None:
    assert len(BY_KEY) == len(SYMBOLS), "two symbols share a key"


_check()


def caption(*keys: str, **meanings: str) -> str:
    """ "θ: the parameters; η: the learning rate" for the keys given, in order. A keyword
    gives a page's concrete reading of a symbol (``theta="a point (x, y)"``); it must name a
    key of the table, so a page cannot invent a symbol."""
    unknown = [k for k in (*keys, *meanings) if k not in BY_KEY]
    if unknown:
        raise KeyError(f"not in the notation table: {unknown}")
    order = list(keys) + [k for k in meanings if k not in keys]
    return "; ".join(f"{BY_KEY[k].text}: {meanings.get(k, BY_KEY[k].meaning)}" for k in order) + "."
