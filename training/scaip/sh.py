"""Real spherical harmonics in e3nn's convention, written from the textbook polynomial form.

e3nn's `_spherical_harmonics(lmax, x, y, z)` uses y as the polar axis and orders the 2l+1 components
m = -l..l; it equals the standard real harmonics (no Condon-Shortley phase) evaluated at
(x_s, y_s, z_s) = (z, x, y), with "component" normalization (sum_m Y_lm^2 = 2l+1 on the unit sphere,
Y_00 = 1). The functions are homogeneous polynomials, so the zero vector gives (1, 0, ..., 0).
"""
import math

import torch


def _double_factorial(n):
    out = 1
    while n > 1:
        out *= n
        n -= 2
    return out


def spherical_harmonics(lmax, vec):
    """Y_lm(vec) for l = 0..lmax, shape (..., (lmax+1)^2), e3nn component order and signs."""
    # e3nn (x, y, z) -> standard frame with the polar axis along e3nn's y.
    xs, ys, zs = vec[..., 2], vec[..., 0], vec[..., 1]
    r2 = xs * xs + ys * ys + zs * zs
    one = torch.ones_like(xs)
    # A_m + i B_m = (x_s + i y_s)^m: the azimuthal cos/sin parts times rho^m.
    a = [one]
    b = [torch.zeros_like(xs)]
    for m in range(1, lmax + 1):
        a.append(xs * a[m - 1] - ys * b[m - 1])
        b.append(xs * b[m - 1] + ys * a[m - 1])
    # pi[l][m]: m-th derivative of the Legendre polynomial P_l, homogenised with r^2.
    pi = [[None] * (lmax + 1) for _ in range(lmax + 1)]
    for m in range(lmax + 1):
        pi[m][m] = one * float(_double_factorial(2 * m - 1))
        if m + 1 <= lmax:
            pi[m + 1][m] = (2 * m + 1) * zs * pi[m][m]
        for l in range(m + 2, lmax + 1):
            pi[l][m] = ((2 * l - 1) * zs * pi[l - 1][m] - (l + m - 1) * r2 * pi[l - 2][m]) / (l - m)
    out = []
    for l in range(lmax + 1):
        comps = [None] * (2 * l + 1)
        for m in range(l + 1):
            norm = math.sqrt((2 * l + 1) * math.factorial(l - m) / math.factorial(l + m))
            if m == 0:
                comps[l] = norm * pi[l][0]
            else:
                norm *= math.sqrt(2.0)
                comps[l + m] = norm * pi[l][m] * a[m]
                comps[l - m] = norm * pi[l][m] * b[m]
        out.extend(comps)
    return torch.stack(out, dim=-1)
