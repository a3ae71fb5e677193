"""Differentiable soft bi-kNN neighbour graph with periodic images (spec §1.2 + golden README §0.5).

Everything that selects (sorting, truncation, the x < 1 test) runs on detached values; the kept
distances, soft ranks and envelope coordinates stay differentiable in positions and cell.
"""
import math

import torch

INF = float("inf")
# Most periodic images a graph may enumerate (11^3: up to 5 repeats each way on all three axes), as in
# src/cpu/graph.ts: the dense graph holds an (n, n, M) distance array, so M must be bounded before it exists.
MAX_PERIODIC_IMAGES = 1331


class PeriodicImageError(ValueError):
    """A cell too thin for the cutoff (or a cutoff absurd for the cell), refused before any image is enumerated."""

    def __init__(self, heights, cutoff, repeats, images):
        self.heights, self.cutoff, self.repeats, self.images = heights, cutoff, repeats, images
        hs = ", ".join(f"{h:.4g}" for h in heights)
        rs = ", ".join(str(r) if math.isfinite(r) else "inf" for r in repeats)
        total = f"{images:,}" if math.isfinite(images) else "infinitely many"
        super().__init__(
            f"the cell is too small for the model's {cutoff:.4g} A cutoff: its heights are {hs} A, so a cutoff sphere "
            f"needs {rs} periodic repeats each way, {total} images in all; at most {MAX_PERIODIC_IMAGES:,} (11^3) are "
            f"allowed, since every atom meets every image of every atom. Use a supercell with every periodic height "
            f">= {cutoff / 5:.4g} A (cutoff/5), or fix the cell")


def safe_norm(vec):
    """|v| with the reference code's rule: exactly 0 (and zero gradient) when |v|^2 <= 1e-12."""
    sq = (vec * vec).sum(-1)
    small = sq <= 1e-12
    norm = torch.sqrt(torch.clamp(sq, min=1e-12))
    return torch.where(small, torch.zeros_like(norm), norm)


def safe_normalize(vec):
    """v/|v|, the zero vector for v = 0."""
    sq = (vec * vec).sum(-1, keepdim=True)
    return vec / torch.sqrt(torch.clamp(sq, min=1e-12))


def bump(x):
    """Smooth step from 0 (x <= -4) to 1 (x >= 4), 1/2 at 0 (low-memory soft rank kernel)."""
    inside = x.abs() < 4
    step = (x >= 0).to(x.dtype)
    # Masked input keeps the unused branch finite so no NaN leaks into gradients.
    t = torch.where(inside, x / 4.0, torch.zeros_like(x))
    a = torch.exp(-2.0 / (t + 1.0))
    b = torch.exp(-2.0 / (1.0 - t))
    return torch.where(inside, a / (a + b), step)


def soft_rank_truncated(dist, candidates, scale):
    """Soft rank of every entry of each row among the row's `candidates` nearest; +inf elsewhere."""
    kd = min(candidates, dist.shape[1])
    order = torch.sort(dist.detach(), dim=1, stable=True).indices[:, :kd]
    kept = torch.gather(dist, 1, order)
    ranks_kept = bump((kept[:, :, None] - kept[:, None, :]) / scale).sum(-1)
    return torch.full_like(dist, INF).scatter(1, order, ranks_kept)


def image_offsets(cell, pbc, cutoff):
    """Integer image triples (M,3) in torch.cartesian_prod order, rep_i = ceil(cutoff*|a_j x a_k|/V)."""
    if not bool(pbc.any()):
        return torch.zeros((1, 3), dtype=torch.long, device=cell.device)
    c = cell.detach().to(torch.float64)
    vol = torch.dot(c[0], torch.cross(c[1], c[2], dim=0))
    reps, heights = [], []
    for i in range(3):
        j, k = (i + 1) % 3, (i + 2) % 3
        inv_height = float(torch.linalg.norm(torch.cross(c[j], c[k], dim=0) / vol))
        heights.append(1.0 / inv_height if inv_height > 0 else 0.0)
        if not bool(pbc[i]):
            reps.append(0)
            continue
        r = cutoff * inv_height
        reps.append(int(math.ceil(r)) if math.isfinite(r) and inv_height > 0 else math.inf)
    images = math.prod(2 * r + 1 for r in reps)
    if not images <= MAX_PERIODIC_IMAGES:
        raise PeriodicImageError(heights, cutoff, reps, images)
    ranges = [torch.arange(-r, r + 1, dtype=torch.long) for r in reps]
    return torch.cartesian_prod(*ranges).reshape(-1, 3).to(cell.device)


def wrap_positions(pos, cell, pbc):
    """Wrap into the cell along periodic axes (integer shifts detached, so d/dpos is identity)."""
    if not bool(pbc.any()):
        return pos
    frac = torch.linalg.solve(cell.detach().T, pos.detach().T).T
    shift = torch.floor(frac) * pbc.to(pos.dtype)
    return pos - shift @ cell


def build_system_graph(pos, cell, pbc, cutoff, knn_k, candidates, sigmoid_scale, lse_scale, need_pairwise):
    """Soft bi-kNN graph of one system.

    pos (n,3) wrapped positions, cell (3,3) rows = lattice vectors, pbc (3,) bool.
    Returns dict: center (E,), neighbor (E,), shift (E,3) long, disp (E,3) = pos_b + shift.cell - pos_a,
    env (E,) envelope coordinate x (< 1), dist_pairwise (n,n) minimum-image distances or None.
    """
    n = pos.shape[0]
    shifts = image_offsets(cell, pbc, cutoff)
    m = shifts.shape[0]
    translations = shifts.to(pos.dtype) @ cell  # (M,3)
    disp = pos[None, :, None, :] + translations[None, None, :, :] - pos[:, None, None, :]  # (n,n,M,3)
    dist = safe_norm(disp)  # (n,n,M)
    src_rank = soft_rank_truncated(dist.reshape(n, n * m), candidates, sigmoid_scale).reshape(n, n, m)
    dist_t = dist.transpose(0, 1).reshape(n, n * m)
    dst_rank = soft_rank_truncated(dist_t, candidates, sigmoid_scale).reshape(n, n, m).transpose(0, 1)
    with torch.no_grad():
        cand = torch.isfinite(src_rank) & torch.isfinite(dst_rank)
        ia, ib, im = torch.nonzero(cand, as_tuple=True)
    stack = torch.stack([src_rank[ia, ib, im] / knn_k, dst_rank[ia, ib, im] / knn_k, dist[ia, ib, im] / cutoff])
    env = lse_scale * torch.logsumexp(stack / lse_scale, dim=0)
    d = dist[ia, ib, im]
    env = torch.where(d == 0, torch.zeros_like(env), env)
    keep = (env < 1.0).detach()
    ia, ib, im, env = ia[keep], ib[keep], im[keep], env[keep]
    out = {
        "center": ia,
        "neighbor": ib,
        "shift": shifts[im],
        # Self-loops get a constant zero vector: their unit-vector gradient is ~1e6 and would only
        # cancel (+G - G on the same atom) up to rounding, polluting forces at the 1e-11 level.
        "disp": torch.where((d[keep] == 0)[:, None], torch.zeros_like(pos[:1]), disp[ia, ib, im]),
        "env": env,
        "dist_pairwise": dist.min(dim=2).values if need_pairwise else None,
    }
    return out


def segment_slots(segment, value, num_segments):
    """Position of each item inside its segment when ordered by ascending value (stable)."""
    order = torch.sort(value.detach(), stable=True).indices
    order = order[torch.sort(segment[order], stable=True).indices]
    counts = torch.bincount(segment, minlength=num_segments)
    starts = torch.cumsum(counts, 0) - counts
    slots = torch.empty_like(segment)
    slots[order] = torch.arange(segment.shape[0], dtype=segment.dtype, device=segment.device) - starts[segment[order]]
    return slots, counts


def smooth_pair_distance(pos, cell, pbc):
    """All-pairs distance r̃_ij for ERoPE that is smooth and exactly periodic (erope_smooth_minimum_image).

    The minimum image switches image at half the box, which leaves a kink in the forces. Here, with the
    fractional displacement s = (pos_j − pos_i)·cell⁻¹ and, per periodic axis a, σ = sin(π s_a), κ = cos(π s_a):
        w_a = σκ(3 + 2σ²)/(3π),   h_a = 4σ⁶(2 + σ²)/(9π²)      (non-periodic axes: w_a = s_a, h_a = 0),
        r̃² = |Σ_a w_a·cell_a|² + Σ_a h_a·|cell_a|².
    w_a = (8 sin 2πs − sin 4πs)/(12π) is the two-term sine series equal to s up to O(s⁵), and w_a² + h_a =
    σ²(3 + σ²)/(3π²) the two-term cosine series equal to s² up to O(s⁶), so r̃ = r(1 + O(s⁴)) at short range
    (0.5 % at s = 0.16, 2.4 % at s = 0.24;
    the one-term chord (L/π)·sin(π s) is 3.9 % short at s = 0.16); h_a ≥ 0 keeps r̃² > 0 away from lattice points. Every term is periodic
    in each s_a and infinitely differentiable. r̃ depends on s and the metric cell·cellᵀ only, so rotating
    positions and cell together leaves it unchanged; swapping i, j flips w and keeps h.
    pos (n,3) wrapped positions, cell (3,3) rows = lattice vectors, pbc (3,) bool. Returns (n,n).
    """
    disp = pos[None, :, :] - pos[:, None, :]  # [i, j] = pos_j - pos_i
    if not bool(pbc.any()):
        return safe_norm(disp)
    s = disp @ torch.linalg.inv(cell)
    sn, cs = torch.sin(math.pi * s), torch.cos(math.pi * s)
    sn2 = sn * sn
    w = torch.where(pbc, sn * cs * (3 + 2 * sn2) / (3 * math.pi), s)
    h = torch.where(pbc, 4 * sn2 * sn2 * sn2 * (2 + sn2) / (9 * math.pi ** 2), torch.zeros_like(s))
    chord = w @ cell
    q = (chord * chord).sum(-1) + (h * (cell * cell).sum(-1)).sum(-1)
    small = q <= 1e-12
    return torch.where(small, torch.zeros_like(q), torch.sqrt(torch.clamp(q, min=1e-12)))
