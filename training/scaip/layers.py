"""Network building blocks of AllScAIP with the reference state-dict names (spec §1.4-1.6, §6).

torch 1.13 has neither nn.RMSNorm nor scaled_dot_product_attention, so both are written out.
"""
import math

import torch
from torch import nn


class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x^2) + eps) * w (weight only, as the reference)."""

    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + self.eps) * self.weight


def linear_act(n_in, n_out):
    """Linear followed by exact (erf) GELU; state-dict keys `<name>.0.{weight,bias}`."""
    return nn.Sequential(nn.Linear(n_in, n_out), nn.GELU())


def mlp(n_in, n_hidden, n_out):
    """Two-layer MLP keyed `<name>.0.0.*` and `<name>.1.0.*` (GELU between, none after)."""
    return nn.Sequential(linear_act(n_in, n_hidden), nn.Sequential(nn.Linear(n_hidden, n_out)))


def residual_scale(num_layers):
    return nn.Parameter(torch.tensor(1.0 / num_layers))


def attend(q, k, v, bias, scale):
    """softmax(q k^T * scale + bias) v; every row keeps at least one finite logit by construction."""
    logits = torch.matmul(q, k.transpose(-1, -2)) * scale
    if bias is not None:
        logits = logits + bias
    return torch.matmul(torch.softmax(logits, dim=-1), v)


class LaeLayout:
    """Index maps that expand each head channel c of degree l(c) into its 2l+1 components.

    q~_{c,m} = q_c * Yhat_{l(c) m}(u), so q~ . k~ = sum_c q_c k_c P_l(c)(u_q . u_k) (Legendre angle encoding).
    """

    def __init__(self, frequency_list):
        chan, comp = [], []
        channel = 0
        for l, repeat in enumerate(frequency_list):
            for _ in range(repeat):
                for m in range(2 * l + 1):
                    chan.append(channel)
                    comp.append(l * l + m)
                channel += 1
        self.lmax = len(frequency_list) - 1
        self.channel_index = torch.tensor(chan, dtype=torch.long)
        self.component_index = torch.tensor(comp, dtype=torch.long)


class Attention(nn.Module):
    """Multi-head attention with q/k/v/out projections named as BaseAttention in the reference."""

    def __init__(self, hidden, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = hidden // num_heads
        self.attn_in_proj_q = nn.Linear(hidden, hidden)
        self.attn_in_proj_k = nn.Linear(hidden, hidden)
        self.attn_in_proj_v = nn.Linear(hidden, hidden)
        self.attn_out_proj = nn.Linear(hidden, hidden)

    def _split(self, x):
        b, s, _ = x.shape
        return x.view(b, s, self.num_heads, self.head_dim).transpose(1, 2)

    def attention(self, x, bias, lae_vectors=None, lae_layout=None):
        """x (B,S,H); bias broadcastable to (B,nh,S,S); lae_vectors (B,S,(lmax+1)^2) or None."""
        q = self._split(self.attn_in_proj_q(x))
        k = self._split(self.attn_in_proj_k(x))
        v = self._split(self.attn_in_proj_v(x))
        if lae_vectors is not None:
            comp = lae_layout.component_index.to(x.device)
            chan = lae_layout.channel_index.to(x.device)
            y = lae_vectors[:, None, :, :][..., comp]
            q = q[..., chan] * y
            k = k[..., chan] * y
        # Scale stays 1/sqrt(head_dim) even when LAE widens q and k (the reference passes it explicitly).
        out = attend(q, k, v, bias, 1.0 / math.sqrt(self.head_dim))
        b, _, s, _ = out.shape
        return self.attn_out_proj(out.transpose(1, 2).reshape(b, s, -1))


class NeighborhoodAttention(nn.Module):
    def __init__(self, hidden, num_heads, num_layers, eps):
        super().__init__()
        self.src_attn = Attention(hidden, num_heads)
        self.dst_attn = Attention(hidden, num_heads)
        self.src_attn_norm = RMSNorm(hidden, eps)
        self.dst_attn_norm = RMSNorm(hidden, eps)
        self.src_attn_res_scale = residual_scale(num_layers)
        self.dst_attn_res_scale = residual_scale(num_layers)

    def forward(self, x, layout, lae_layout):
        """x (N*K,H) in the source layout; returns the updated source layout (empty slots zero)."""
        n, k = layout["num_nodes"], layout["num_slots"]
        h = x.shape[-1]
        xs = x.view(n, k, h)
        xs = xs + self.src_attn_res_scale * self.src_attn.attention(
            self.src_attn_norm(xs), layout["src_bias"], layout["lae_src"], lae_layout)
        # Move every edge a->b from its source slot (a, r1) to its destination slot (b, r2).
        flat = xs.reshape(n * k, h)
        xd = torch.zeros_like(flat).index_copy(0, layout["dst_flat"], flat[layout["src_flat"]]).view(n, k, h)
        xd = xd + self.dst_attn_res_scale * self.dst_attn.attention(
            self.dst_attn_norm(xd), layout["dst_bias"], layout["lae_dst"], lae_layout)
        flat = xd.reshape(n * k, h)
        return torch.zeros_like(flat).index_copy(0, layout["src_flat"], flat[layout["dst_flat"]])


class FeedForward(nn.Module):
    def __init__(self, hidden, multiplier, num_layers, eps):
        super().__init__()
        self.ffn = mlp(hidden, hidden * multiplier, hidden)
        self.ffn_norm = RMSNorm(hidden, eps)
        self.ffn_res_scale = residual_scale(num_layers)

    def forward(self, x):
        return x + self.ffn_res_scale * self.ffn(self.ffn_norm(x))


class NodeAttention(Attention):
    def __init__(self, hidden, num_heads, num_layers, eps, erope_num_freq):
        super().__init__(hidden, num_heads)
        self.node_norm = RMSNorm(hidden, eps)
        self.node_attn_res_scale = residual_scale(num_layers)
        if erope_num_freq:
            self.radial_weight = nn.Parameter(torch.ones(num_heads, erope_num_freq) / erope_num_freq)
        else:
            self.radial_weight = None

    def bias(self, node_ctx):
        """Additive logit bias (nh,N,N) or None: system mask plus the ERoPE sinc-kernel term."""
        base = node_ctx["base_mask"]
        if self.radial_weight is None:
            return None if base is None else base[None]
        valid = node_ctx["valid"]
        weight = torch.einsum("ijk,hk->hij", node_ctx["sincx"], self.radial_weight)
        weight = weight.masked_fill(~valid[None], 0.0)
        weight = torch.nn.functional.softplus(weight) + 1e-6
        # One constant per head; it cancels in the softmax but keeps the bias equal to the reference's.
        denom = weight.sum(dim=(1, 2), keepdim=True).clamp_min(1e-6)
        weight = weight * (valid.sum().to(weight.dtype) / denom)
        out = torch.log(weight)
        return out if base is None else out + base[None]

    def forward(self, node, node_ctx):
        h = self.node_norm(node)[None]
        bias = self.bias(node_ctx)
        out = self.attention(h, None if bias is None else bias[None])
        return node + self.node_attn_res_scale * out[0]


class GraphAttentionBlock(nn.Module):
    def __init__(self, arch):
        super().__init__()
        hidden, heads, layers, eps = arch["hidden_size"], arch["num_heads"], arch["num_layers"], arch["rmsnorm_eps"]
        self.neighborhood_attention = NeighborhoodAttention(hidden, heads, layers, eps)
        self.edge_ffn = FeedForward(hidden, arch["ffn_multiplier"], layers, eps)
        if arch["use_node_attention"]:
            self.node_attention = NodeAttention(
                hidden, heads, layers, eps, arch["erope_num_freq"] if arch["use_erope"] else 0)
        else:
            self.node_attention = None
        self.node_ffn = FeedForward(hidden, arch["ffn_multiplier"], layers, eps)

    def forward(self, x, layout, lae_layout, node_ctx):
        n, k = layout["num_nodes"], layout["num_slots"]
        x = self.neighborhood_attention(x, layout, lae_layout).view(n, k, -1)
        node, edges = x[:, 0], x[:, 1:]
        edges = self.edge_ffn(edges)
        if self.node_attention is not None:
            node = self.node_attention(node, node_ctx)
        node = self.node_ffn(node)
        return torch.cat([node[:, None], edges], dim=1).reshape(n * k, -1)


class ChargeSpinTable(nn.Module):
    """Plain embedding lookup, named like the reference's ChgSpinEmbedding('rand_emb')."""

    def __init__(self, rows, hidden):
        super().__init__()
        self.rand_emb = nn.Embedding(rows, hidden)


class InputBlock(nn.Module):
    def __init__(self, arch):
        super().__init__()
        hidden, eps = arch["hidden_size"], arch["rmsnorm_eps"]
        self.atomic_embedding = nn.Embedding(arch["max_num_elements"], hidden)
        self.node_direction_embedding = linear_act(arch["boo_lmax"] + 1, hidden)
        self.node_linear = linear_act(2 * hidden, hidden)
        self.node_norm = RMSNorm(2 * hidden, eps)
        self.edge_attr_linear = linear_act(arch["rbf_size"] + (arch["sh_lmax"] + 1) ** 2, hidden)
        self.edge_feature_linear = linear_act(2 * hidden, hidden)
        if arch["use_charge_spin"]:
            self.charge_embedding = ChargeSpinTable(201, hidden)
            self.spin_embedding = ChargeSpinTable(101, hidden)
            self.charge_spin_linear = linear_act(2 * hidden, hidden)

    def node_features(self, numbers, boo, charge, spin, batch, use_charge_spin):
        node = torch.cat([self.atomic_embedding(numbers), self.node_direction_embedding(boo)], dim=-1)
        node = self.node_linear(self.node_norm(node))
        if use_charge_spin:
            cs = torch.cat([self.charge_embedding.rand_emb(charge + 100), self.spin_embedding.rand_emb(spin)], -1)
            node = node + self.charge_spin_linear(cs)[batch]
        return node


class EnergyHead(nn.Module):
    def __init__(self, hidden, multiplier, eps):
        super().__init__()
        self.node_norm = RMSNorm(hidden, eps)
        self.energy_ffn = mlp(hidden, hidden * multiplier, 1)

    def forward(self, node):
        return self.energy_ffn(self.node_norm(node))[:, 0]


class DirectForceHead(nn.Module):
    def __init__(self, hidden, multiplier, eps):
        super().__init__()
        self.node_norm = RMSNorm(hidden, eps)
        self.force_ffn = mlp(hidden, hidden * multiplier, 3)

    def forward(self, node):
        return self.force_ffn(self.node_norm(node))
