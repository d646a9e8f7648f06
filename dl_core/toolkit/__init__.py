"""The math toolkit: the mathematics every other page leans on, as functions of the
learner's numbers. One module per section of the Math toolkit page:

- ``linalg``: a 2 x 2 matrix as a map of the plane: eigenvalues from the characteristic
  polynomial, the determinant, the SVD in closed form (rotate, stretch, rotate) and the
  quadratic f(x) = ½ xᵀAx with its condition number;
- ``calculus``: a few 2-D functions with hand-written gradients, the directional
  derivative, central and forward finite differences and the laws of their errors;
- ``probability``: Gaussian samples by reparameterisation (z = μ + σ ε) and Bernoulli
  samples, sample statistics, maximum likelihood by gradient ascent and in closed form, and
  the negative log-likelihoods that are the mean squared error and the binary cross-entropy;
- ``information``: entropy, cross-entropy, KL and JS of discrete distributions, the KL
  between two Gaussians, and one Gaussian fitted to a two-peaked mixture by forward and
  reverse KL.

Everything is closed form or a few thousand flops. ``tests/core/test_toolkit.py`` checks each
function against ``torch.linalg``, ``torch.autograd``, ``torch.distributions`` or central
finite differences. No Streamlit, no Plotly.
"""
