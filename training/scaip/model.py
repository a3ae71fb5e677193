"""AllScAIP reference model (spec §1, golden README corrections), float32 or float64.

`AllScAIP(config)` takes a model.json dict (docs/model-format.md). State-dict keys are the reference
ones: `backbone.*`, the energy head under `heads.energy_prefix`, a direct force head under
`heads.force_prefix`. `compute()` returns denormalised energy, forces (autograd or direct) and stress.
"""
import math

import torch
from torch import nn

from .config import validate_config
from .graph import (build_system_graph, safe_norm, safe_normalize, segment_slots, smooth_pair_distance,
                    wrap_positions)
from .layers import DirectForceHead, EnergyHead, GraphAttentionBlock, InputBlock, LaeLayout
from .sh import spherical_harmonics

# ERoPE frequency range of the reference (r_min = 0.25 Å, r_max = 30 Å), built in float32 there.
EROPE_R_MIN = 0.25
EROPE_R_MAX = 30.0


def erope_omega(num_freq):
    """ω_k, float32-rounded exactly as the reference builds them."""
    return torch.logspace(
        math.log10(math.pi / (4.0 * EROPE_R_MAX)), math.log10(math.pi / EROPE_R_MIN), num_freq, dtype=torch.float32)


def sinc(x):
    """sin(x)/x with the reference's Taylor branch for |x| < 1e-4."""
    small = x.abs() < 1e-4
    safe_x = torch.where(small, torch.ones_like(x), x)
    x2 = x * x
    return torch.where(small, 1 - x2 / 6 + x2 * x2 / 120, torch.sin(safe_x) / safe_x)


def envelope(x):
    """Log of the smooth bump exp(-x^2/(1-x^2)); only called on x < 1."""
    return -x * x / (1 - x * x)


class Backbone(nn.Module):
    def __init__(self, arch):
        super().__init__()
        self.input_block = InputBlock(arch)
        self.transformer_blocks = nn.ModuleList([GraphAttentionBlock(arch) for _ in range(arch["num_layers"])])


def _attach(root, prefix, module):
    """Register `module` so that its keys start with `prefix` (e.g. 'output_heads.energyandforcehead.head.')."""
    parts = prefix[:-1].split(".")
    node = root
    for part in parts[:-1]:
        if not hasattr(node, part):
            node.add_module(part, nn.Module())
        node = getattr(node, part)
    node.add_module(parts[-1], module)


class AllScAIP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = validate_config(config)
        arch, heads = self.config["architecture"], self.config["heads"]
        self.arch = arch
        self.backbone = Backbone(arch)
        hidden, mult, eps = arch["hidden_size"], arch["output_multiplier"], arch["rmsnorm_eps"]
        energy_head = EnergyHead(hidden, mult, eps)
        _attach(self, heads["energy_prefix"], energy_head)
        force_head = None
        if heads["forces"] == "direct":
            force_head = DirectForceHead(hidden, mult, eps)
            _attach(self, heads["force_prefix"], force_head)
        # Plain references (not registered twice, so the state dict has each tensor once).
        object.__setattr__(self, "_energy_head", energy_head)
        object.__setattr__(self, "_force_head", force_head)
        self.lae_layout = LaeLayout(arch["lae_frequency_list"]) if arch["use_lae"] else None

    @property
    def direct_forces(self):
        return self.config["heads"]["forces"] == "direct"

    # ------------------------------------------------------------------ graph and features
    # Builds one system's graph; a subclass may swap in an equivalent builder (training/fast_graph.py).
    system_graph = staticmethod(build_system_graph)

    def _graph(self, pos, cell, pbc, natoms):
        arch = self.arch
        need_pairwise = arch["use_node_attention"] and arch["use_erope"]
        smooth = need_pairwise and arch["erope_smooth_minimum_image"]
        parts, start = [], 0
        for s, n in enumerate(natoms):
            p = wrap_positions(pos[start:start + n], cell[s], pbc[s])
            g = self.system_graph(
                p, cell[s], pbc[s], arch["cutoff"], arch["knn_k"], arch["knn_candidates"],
                arch["knn_sigmoid_scale"], arch["knn_lse_scale"], need_pairwise and not smooth)
            if smooth:
                g["dist_pairwise"] = smooth_pair_distance(p, cell[s], pbc[s])
            g["center"] = g["center"] + start
            g["neighbor"] = g["neighbor"] + start
            parts.append(g)
            start += n
        graph = {key: torch.cat([g[key] for g in parts]) for key in ("center", "neighbor", "shift", "disp", "env")}
        if need_pairwise:
            total = start
            dp = pos.new_zeros((total, total))
            start = 0
            for g, n in zip(parts, natoms):
                # Block-diagonal: cross-system entries are masked later.
                idx = torch.arange(start, start + n, device=pos.device)
                dp = dp.index_put((idx[:, None], idx[None, :]),
                                  g["dist_pairwise"])
                start += n
            graph["dist_pairwise"] = dp
        return graph

    def _layout(self, graph, num_nodes):
        center, neighbor, env = graph["center"], graph["neighbor"], graph["env"]
        src_slot, src_count = segment_slots(center, env, num_nodes)
        dst_slot, dst_count = segment_slots(neighbor, env, num_nodes)
        k = int(max(src_count.max(), dst_count.max()))
        src_flat = center * k + src_slot
        dst_flat = neighbor * k + dst_slot
        bias = envelope(env)
        dtype = env.dtype
        src_bias = torch.full((num_nodes * k,), -math.inf, dtype=dtype, device=env.device).index_copy(0, src_flat, bias)
        dst_bias = torch.full((num_nodes * k,), -math.inf, dtype=dtype, device=env.device).index_copy(0, dst_flat, bias)
        return {
            "num_nodes": num_nodes, "num_slots": k, "src_flat": src_flat, "dst_flat": dst_flat,
            "src_slot": src_slot, "dst_slot": dst_slot, "src_count": src_count,
            # Key-only biases, broadcast over heads and queries.
            "src_bias": src_bias.view(num_nodes, 1, 1, k), "dst_bias": dst_bias.view(num_nodes, 1, 1, k),
            "lae_src": None, "lae_dst": None,
        }

    # ------------------------------------------------------------------ forward
    def forward(self, numbers, pos, cell, pbc, charge, spin, natoms, intermediates=False):
        """Raw model outputs for a batch of systems.

        numbers (N,) long, pos (N,3), cell (B,3,3) rows = lattice vectors (zeros if none),
        pbc (B,3) bool, charge (B,), spin (B,) long, natoms list of B ints.
        Returns {'energy_raw' (B,), 'energy_per_atom' (N,), 'forces_raw' (N,3) for direct heads, ...}.
        """
        arch = self.arch
        dtype = pos.dtype
        n_total = pos.shape[0]
        dev = pos.device
        batch = torch.repeat_interleave(torch.arange(len(natoms), device=dev), torch.tensor(natoms, device=dev))
        graph = self._graph(pos, cell, pbc, natoms)
        layout = self._layout(graph, n_total)
        k = layout["num_slots"]
        center = graph["center"]
        disp = graph["disp"]
        r = safe_norm(disp)
        u = safe_normalize(disp)

        # Gaussian RBF on [0, cutoff], width 2 x spacing (reference GaussianSmearing, basis_width_scalar 2).
        n_rbf = arch["rbf_size"]
        mu = torch.linspace(0.0, arch["cutoff"], n_rbf, dtype=dtype, device=dev)
        coeff = -0.5 / (2.0 * (mu[1] - mu[0])) ** 2
        rbf = torch.exp(coeff * (r[:, None] - mu) ** 2)
        sh = spherical_harmonics(arch["sh_lmax"], u)

        # Bond-orientational order: per centre, mean of Y_l/sqrt(2l+1) over its slots (self included).
        lb = arch["boo_lmax"]
        ls = torch.arange(lb + 1, device=dev)
        degree = torch.repeat_interleave(ls, 2 * ls + 1)
        y_boo = spherical_harmonics(lb, u) / torch.sqrt(2.0 * degree.to(dtype) + 1.0)
        if arch["boo_envelope_weighted"]:
            # Weights w = exp(-x^2/(1-x^2)) vanish with every derivative as an edge reaches x = 1, so an
            # edge entering or leaving the graph moves nothing; the self slot (x = 0, w = 1) keeps Σw >= 1.
            w = torch.exp(envelope(graph["env"]))
            wsum = torch.zeros(n_total, dtype=dtype, device=dev).index_add(0, center, w)
            mean = (torch.zeros((n_total, y_boo.shape[1]), dtype=dtype, device=dev)
                    .index_add(0, center, y_boo * w[:, None]) / wsum[:, None])
        else:
            count = layout["src_count"].clamp(min=1).to(dtype)
            mean = (torch.zeros((n_total, y_boo.shape[1]), dtype=dtype, device=dev)
                    .index_add(0, center, y_boo) / count[:, None])
        boo_sq = torch.zeros((n_total, lb + 1), dtype=dtype, device=dev).index_add(1, degree, mean * mean)
        boo = torch.clamp(boo_sq, min=1e-6).sqrt()

        if self.lae_layout is not None:
            ll = self.lae_layout.lmax
            ls = torch.arange(ll + 1, device=dev)
            deg = torch.repeat_interleave(ls, 2 * ls + 1)
            y_lae = spherical_harmonics(ll, u) / torch.sqrt(2.0 * deg.to(dtype) + 1.0)
            zeros = torch.zeros((n_total * k, y_lae.shape[1]), dtype=dtype, device=dev)
            layout["lae_src"] = zeros.index_copy(0, layout["src_flat"], y_lae).view(n_total, k, -1)
            layout["lae_dst"] = zeros.index_copy(0, layout["dst_flat"], y_lae).view(n_total, k, -1)

        node_ctx = self._node_context(graph, batch, dtype)

        ib = self.backbone.input_block
        node = ib.node_features(numbers, boo, charge, spin, batch, arch["use_charge_spin"])
        edge_attr = ib.edge_attr_linear(torch.cat([rbf, sh], dim=-1))
        # The node feature paired with every slot is the centre's own (neighbor_index[0][a, r] = a).
        edge_feat = ib.edge_feature_linear(torch.cat([node[center], edge_attr], dim=-1))
        x = torch.zeros((n_total * k, edge_feat.shape[1]), dtype=dtype, device=dev).index_copy(0, layout["src_flat"], edge_feat)

        inter = {}
        if intermediates:
            inter["input_node"] = x.view(n_total, k, -1)[:, 0].detach().clone()
            inter["layer_node_states"] = []
        for block in self.backbone.transformer_blocks:
            x = block(x, layout, self.lae_layout, node_ctx)
            if intermediates:
                inter["layer_node_states"].append(x.view(n_total, k, -1)[:, 0].detach().clone())
        node_reps = x.view(n_total, k, -1)[:, 0]
        e_atom = self._energy_head(node_reps)
        energy = torch.zeros(len(natoms), dtype=dtype, device=dev).index_add(0, batch, e_atom)
        out = {"energy_raw": energy, "energy_per_atom": e_atom, "batch": batch}
        if self._force_head is not None:
            out["forces_raw"] = self._force_head(node_reps)
        if intermediates:
            inter["boo"] = boo.detach()
            inter["graph"] = {key: (v.detach() if torch.is_tensor(v) else v) for key, v in graph.items()}
            inter["layout"] = layout
            out["intermediates"] = inter
        return out

    def _node_context(self, graph, batch, dtype):
        arch = self.arch
        if not arch["use_node_attention"]:
            return None
        multi = int(batch.max()) > 0
        valid = batch[:, None] == batch[None, :]
        base = None
        if multi:
            base = torch.zeros(valid.shape, dtype=dtype, device=batch.device).masked_fill(~valid, -math.inf)
        ctx = {"valid": valid, "base_mask": base, "sincx": None}
        if arch["use_erope"]:
            omega = erope_omega(arch["erope_num_freq"]).to(dtype=dtype, device=batch.device)
            ctx["sincx"] = sinc(graph["dist_pairwise"][:, :, None] * omega)
        return ctx

    # ------------------------------------------------------------------ user-facing
    def check_inputs(self, numbers, charge, spin):
        """Reject inputs the embedding tables cannot represent, with the offending value named."""
        zmax = self.arch["max_num_elements"]
        if int(numbers.min()) < 0 or int(numbers.max()) >= zmax:
            raise ValueError(f"atomic number {int(numbers.max())} outside 0..{zmax - 1} supported by this model")
        if self.arch["use_charge_spin"]:
            if int(charge.min()) < -100 or int(charge.max()) > 100:
                raise ValueError(f"charge {charge.tolist()} outside -100..100")
            if int(spin.min()) < 0 or int(spin.max()) > 100:
                raise ValueError(f"spin multiplicity {spin.tolist()} outside 0..100")

    def compute(self, numbers, pos, cell, pbc, charge, spin, natoms, forces=True, stress=True,
                create_graph=False, intermediates=False):
        """Denormalised energy (B,), forces (N,3) and stress (B,3,3) for a batch.

        Stress is (1/|det cell|)·dE/dε for the symmetric strain ε (reference sign: no minus); it is
        returned for conservative models when requested and is zero for systems without a periodic cell
        (`stress_valid` says which rows are real).
        """
        self.check_inputs(numbers, charge, spin)
        norm = self.config["normalization"]
        scale = norm["energy_scale"]
        conservative = not self.direct_forces
        want_stress = stress and conservative and self.config["heads"]["regress_stress"]
        pos = pos.detach().clone()
        cell = cell.detach().clone()
        if forces and conservative:
            pos.requires_grad_(True)
        if want_stress:
            strain = torch.zeros((len(natoms), 3, 3), dtype=pos.dtype, device=pos.device, requires_grad=True)
            sym = 0.5 * (strain + strain.transpose(1, 2))
            batch = torch.repeat_interleave(torch.arange(len(natoms), device=pos.device),
                                            torch.tensor(natoms, device=pos.device))
            pos_in = pos + torch.bmm(pos[:, None, :], sym[batch])[:, 0]
            cell_in = cell + torch.bmm(cell, sym)
        else:
            pos_in, cell_in = pos, cell
        out = self.forward(numbers, pos_in, cell_in, pbc, charge, spin, natoms, intermediates=intermediates)
        e_raw = out["energy_raw"]
        result = {"energy_raw": e_raw, "energy_per_atom": out["energy_per_atom"]}
        if intermediates:
            result["intermediates"] = out["intermediates"]
        energy = scale * e_raw + norm["energy_shift"]
        refs = norm["element_references"]
        if refs is not None:
            table = torch.tensor(refs, dtype=pos.dtype, device=pos.device)
            if int(numbers.max()) >= table.shape[0]:
                raise ValueError(f"normalization.element_references has {table.shape[0]} entries, "
                                 f"but Z = {int(numbers.max())} is present")
            energy = energy + torch.zeros_like(energy).index_add(0, out["batch"], table[numbers])
        result["energy"] = energy
        inputs = []
        if forces and conservative:
            inputs.append(pos)
        if want_stress:
            inputs.append(strain)
        grads = []
        if inputs:
            grads = list(torch.autograd.grad(e_raw.sum(), inputs, create_graph=create_graph))
        if forces:
            result["forces"] = (-scale * grads.pop(0)) if conservative else scale * out["forces_raw"]
        if want_stress:
            g = grads.pop(0)
            vol = torch.det(cell).abs()
            periodic = pbc.any(dim=1) & (vol > 0)
            safe_vol = torch.where(periodic, vol, torch.ones_like(vol))
            result["stress"] = torch.where(periodic[:, None, None], scale * g / safe_vol[:, None, None],
                                           torch.zeros_like(g))
            result["stress_valid"] = periodic
        return result


def batch_structures(structures, dtype=torch.float64):
    """Stack a list of structure dicts {numbers, positions, cell|None, pbc, charge, spin} into model inputs."""
    numbers, pos, cells, pbcs, charges, spins, natoms = [], [], [], [], [], [], []
    for i, s in enumerate(structures):
        z = torch.as_tensor(s["numbers"], dtype=torch.long).reshape(-1)
        p = torch.as_tensor(s["positions"], dtype=dtype).reshape(-1, 3)
        if z.shape[0] != p.shape[0] or z.shape[0] == 0:
            raise ValueError(f"structure {i}: {z.shape[0]} atomic numbers but {p.shape[0]} positions")
        pbc = torch.as_tensor(s.get("pbc", [False] * 3), dtype=torch.bool).reshape(3)
        cell = s.get("cell")
        cell = torch.zeros((3, 3), dtype=dtype) if cell is None else torch.as_tensor(cell, dtype=dtype).reshape(3, 3)
        if bool(pbc.any()) and abs(float(torch.det(cell))) < 1e-9:
            raise ValueError(f"structure {i}: periodic but the cell has zero volume")
        numbers.append(z)
        pos.append(p)
        cells.append(cell)
        pbcs.append(pbc)
        charges.append(int(s.get("charge", 0)))
        spins.append(int(s.get("spin", 1)))
        natoms.append(int(z.shape[0]))
    return {
        "numbers": torch.cat(numbers), "pos": torch.cat(pos), "cell": torch.stack(cells), "pbc": torch.stack(pbcs),
        "charge": torch.tensor(charges, dtype=torch.long), "spin": torch.tensor(spins, dtype=torch.long),
        "natoms": natoms,
    }
