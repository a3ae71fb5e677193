"""ERoPE's minimum image without the (n,n,M) image tensor (scaip.graph.minimum_image_distance).

Rounding in reduced coordinates answers a pair when that is provably the nearest image (|n| ≤ 1 and an
orthogonal cell, or |d'| < h_min/2); other pairs take the minimum over the enumerated images. It must equal
the old dist.min over all images, value and gradient (positions and cell), on orthogonal, triclinic, skewed and
slab cells, and the skewed cells must really need the fallback. Same rule as src/cpu/eropeDistance.ts.
"""
import pytest
import torch

from scaip.graph import image_offsets, minimum_image_distance, safe_norm, wrap_positions

CELLS = {
    "orthorhombic": ([[7.0, 0, 0], [0, 8.0, 0], [0, 0, 9.0]], [True, True, True]),
    "triclinic": ([[6.1, 0, 0], [0.7, 5.8, 0], [-0.5, 0.4, 6.4]], [True, True, True]),
    "skewed": ([[6.0, 0, 0], [4.5, 5.0, 0], [-3.0, 2.5, 6.0]], [True, True, True]),
    "skewed slab": ([[6.0, 0, 0], [3.5, 5.5, 0], [1.0, -1.0, 20.0]], [True, True, False]),
}


def random_system(name, seed=0, n=40):
    g = torch.Generator().manual_seed(seed)
    cell = torch.tensor(CELLS[name][0], dtype=torch.float64)
    pbc = torch.tensor(CELLS[name][1])
    pos = wrap_positions(torch.rand(n, 3, generator=g, dtype=torch.float64) * 30 - 10, cell, pbc)
    return pos, cell, pbc


def loop_distance(pos, cell, pbc, cutoff=6.0):
    t = image_offsets(cell, pbc, cutoff).to(pos.dtype) @ cell
    d = pos[None, :, None, :] + t[None, None] - pos[:, None, None, :]
    return safe_norm(d).min(dim=2).values


@pytest.mark.parametrize("name", list(CELLS))
def test_equals_the_image_loop_with_gradients(name):
    pos, cell, pbc = random_system(name)
    pos.requires_grad_(True)
    cell = cell.clone().requires_grad_(True)
    w = torch.rand(pos.shape[0], pos.shape[0], generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    t = image_offsets(cell, pbc, 6.0).to(pos.dtype) @ cell
    got = minimum_image_distance(pos, cell, pbc, t)
    want = loop_distance(pos, cell, pbc)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    g_got = torch.autograd.grad((got * w).sum(), (pos, cell))
    g_want = torch.autograd.grad((want * w).sum(), (pos, cell))
    for a, b in zip(g_got, g_want):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", ["skewed", "skewed slab"])
def test_skewed_cells_need_the_fallback(name):
    pos, cell, pbc = random_system(name)
    d = pos[None, :, :] - pos[:, None, :]
    n = torch.floor(d @ torch.linalg.inv(cell) + 0.5) * pbc.to(d.dtype)
    rounded = safe_norm(d - n @ cell)
    # rounding alone picks a farther image for some pairs; the function must not
    assert bool((rounded > loop_distance(pos, cell, pbc) + 1e-9).any())
