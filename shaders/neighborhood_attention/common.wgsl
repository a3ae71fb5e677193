// Neighborhood self-attention (spec §1.5 steps 1–2) over each atom's K edge slots, forward and
// backward. One workgroup per row, one invocation per slot, heads in turn. A row's slots are the
// elements row·K + r (source layout) or rev(row·K + r) (destination layout: by the graph's symmetry
// the incoming edges of atom b are the reverses of its outgoing ones), so both layouts read and
// write the same source-layout buffers and no gather/scatter pass is needed. Empty slots (key bias
// −inf) are skipped as keys and give zero output as queries. With LAE, channel c of degree l(c)
// contributes q_c k_c Σ_m Ŷ_lm(u_i) Ŷ_lm(u_j), Ŷ_l = Y_l/√(2l+1), from the per-slot SH table.
//
// Files: common.wgsl (this), forward.wgsl, backward.wgsl; one module per entry point (SwiftShader
// crashes at run time when entry points share a module).
//
// q, k, v: E×H each, head h at columns h·D..h·D+D, in bindings of their own: one binding may hold at most
// maxStorageBufferBindingSize (128 MiB on some adapters), one E × H array at 20,000 atoms, not E × 3H.

override D: u32 = 16u;       // head dimension
override LAE: bool = false;

const MAXK: u32 = 64u;       // slots per row = workgroup size
const MAXD: u32 = 64u;
const NLAE: u32 = 25u;       // SH components of degrees 0..4

struct Params {
  rows: u32,
  slots: u32,
  num_heads: u32,
  hidden: u32,
  sh_size: u32,
  dst_layout: u32,           // 1: slots of a row are rev(row·K + r)
  scale: f32,
  channel_degree: array<vec4u, 16>,   // l(c) of each head channel c < D (LAE)
}

@group(0) @binding(0) var<uniform> params: Params;
// bindings 1-3, q, k, v: declared by forward.wgsl (read) and backward.wgsl (read_write: dq, dk, dv replace them)
// the graph's slot key (src/gpu/ops/graph.ts): slot read in the destination layout, key bias (−inf: empty)
struct SlotKey { dst_slot: i32, bias: f32 }
@group(0) @binding(4) var<storage, read> slot_key: array<SlotKey>;
@group(0) @binding(5) var<storage, read> sh: array<f32>;            // E × sh_size (LAE)

/** Source-layout element of slot r of this row. */
fn element(row: u32, r: u32) -> u32 {
  let e = row * params.slots + r;
  if (params.dst_layout == 0u) { return e; }
  return u32(slot_key[e].dst_slot);
}

fn key_bias(e: u32) -> f32 { return slot_key[e].bias; }

fn is_empty(e: u32) -> bool { return key_bias(e) < -1e30; }

fn degree(c: u32) -> u32 { return params.channel_degree[c / 4u][c % 4u]; }

fn q_at(e: u32, h: u32, c: u32) -> f32 { return q[e * params.hidden + h * D + c]; }
fn k_at(e: u32, h: u32, c: u32) -> f32 { return k[e * params.hidden + h * D + c]; }
fn v_at(e: u32, h: u32, c: u32) -> f32 { return v[e * params.hidden + h * D + c]; }

/** Y_lm(u_e) for degrees 0..4 (zero padding past sh_size). */
fn lae_sh(e: u32) -> array<f32, NLAE> {
  var y: array<f32, NLAE>;
  for (var m = 0u; m < NLAE; m++) { y[m] = select(0.0, sh[e * params.sh_size + m], m < params.sh_size); }
  return y;
}

/** G_l = Σ_m Y_lm(u_i) Y_lm(u_j) / (2l+1), l = 0..4. */
fn angle_kernel(yi: ptr<function, array<f32, NLAE>>, e_j: u32) -> array<f32, 5> {
  var g: array<f32, 5>;
  for (var l = 0u; l < 5u; l++) {
    var s = 0.0;
    for (var m = l * l; m < (l + 1u) * (l + 1u); m++) { s += (*yi)[m] * sh[e_j * params.sh_size + m]; }
    g[l] = s / f32(2u * l + 1u);
  }
  return g;
}

/** Logit of query slot element e_i (its q in qi) against key element e_j, head h. */
fn logit(qi: ptr<function, array<f32, MAXD>>, yi: ptr<function, array<f32, NLAE>>, e_j: u32, h: u32) -> f32 {
  var s = 0.0;
  if (LAE) {
    let g = angle_kernel(yi, e_j);
    for (var c = 0u; c < D; c++) { s += (*qi)[c] * k_at(e_j, h, c) * g[degree(c)]; }
  } else {
    for (var c = 0u; c < D; c++) { s += (*qi)[c] * k_at(e_j, h, c); }
  }
  return s * params.scale + key_bias(e_j);
}
