// Edge-input operands of linear.wgsl (the input block's edge-attribute layer): row m is graph slot m and its
// input is [RBF_0(d) … RBF_{R−1}(d), Y_0 … Y_{S−1}] with RBF_i(d) = exp(c·(d − μ_i)²), μ_i = cutoff·i/(R−1)
// (0 on empty slots), Y from the slot SH table. The N·K·R RBF table is never stored: the forward makes the
// values while staging its tile; the backward turns its columns i < R into Σ_i g_i·∂RBF_i/∂d, one partial
// sum per 64-column tile (dist_part[m·tiles_n + tile], summed by features_backward.wgsl with DIST_PARTS),
// and ADDS its SH columns into ∂E/∂Y (the LAE share is already there). Empty slots get neither.

@group(0) @binding(6) var<storage, read> slot_meta: array<vec4i>;   // graph layout: .x < 0 = empty slot
@group(0) @binding(7) var<storage, read> slot_geom: array<vec4f>;   // .w = distance
@group(0) @binding(8) var<storage, read> sh: array<f32>;            // (N·K)×sh_stride
@group(0) @binding(9) var<storage, read_write> grad_sh: array<f32>; // (N·K)×sh_stride, accumulated
@group(0) @binding(10) var<storage, read_write> dist_part: array<f32>; // (N·K)×tiles_n

var<workgroup> row_sum: array<array<f32, 16>, 64>;

fn rbf_center(i: u32) -> f32 { return params.cutoff * f32(i) / f32(params.rbf_size - 1u); }

fn store_y(i: u32, v: f32) { y_out[i] = v; }

fn row_term(m: u32, n: u32) -> f32 { return 0.0; }   // ROW_TERM: dense operands only
fn store_inv_rms(m: u32, v: f32) {}   // NORM is for dense operands only
fn load_inv_rms(m: u32) -> f32 { return 1.0; }
fn norm_x(m: u32, n: u32) -> f32 { return 0.0; }
fn norm_res(m: u32, n: u32) -> f32 { return 0.0; }

fn load_x(m: u32, k: u32) -> f32 {
  if (k >= params.rbf_size) { return sh[m * params.sh_stride + k - params.rbf_size]; }
  if (slot_meta[m].x < 0) { return 0.0; }
  let t = slot_geom[m].w - rbf_center(k);
  return exp(params.rbf_coeff * t * t);
}

/** dy[m, k] of the backward pass, times GELU'(pre) with GELU. */
fn load_dy(m: u32, k: u32) -> f32 {
  let i = m * params.depth + k;
  if (GELU) { return x_in[i] * gelu_grad(pre[i]); }
  return x_in[i];
}

fn store_dx(o: vec2u, lid: vec2u, acc: array<array<f32, 4>, 4>) {
  let R = params.rbf_size;
  for (var i = 0u; i < 4u; i++) {
    let gm = o.x + lid.y * 4u + i;
    var part = 0.0;
    if (gm < params.rows && slot_meta[gm].x >= 0) {
      let d = slot_geom[gm].w;
      for (var j = 0u; j < 4u; j++) {
        let gn = o.y + lid.x * 4u + j;
        if (gn < R) {
          let t = d - rbf_center(gn);
          part += acc[i][j] * 2.0 * params.rbf_coeff * t * exp(params.rbf_coeff * t * t);
        } else if (gn < params.cols) {
          grad_sh[gm * params.sh_stride + gn - R] += acc[i][j];
        }
      }
    }
    row_sum[lid.y * 4u + i][lid.x] = part;
  }
  workgroupBarrier();
  if (lid.x == 0u) {
    for (var i = 0u; i < 4u; i++) {
      let r = lid.y * 4u + i;
      let gm = o.x + r;
      if (gm >= params.rows) { continue; }
      var s = 0.0;
      for (var c = 0u; c < 16u; c++) { s += row_sum[r][c]; }
      dist_part[gm * params.tiles_n + o.y / TILE] = s;
    }
  }
}
