// Dense operands of linear.wgsl: the forward input is x [M, K]; the input gradient goes to y [M, N].
// RESIDUAL folds a residual block's skip connection into the output layer: y = res + alpha·(x·Wᵀ + b);
// the input gradient is scaled by alpha (the branch's share of dY is alpha·dY). NORM: see linear.wgsl.

override RESIDUAL: bool = false;
// forward: + row_in[m / slots, n] before the activation (a per-atom product broadcast to the atom's K slots, so
// Lin([node ‖ edge]) per slot is Lin_a(node) per atom + Lin_b(edge) per slot: no per-slot concatenation)
override ROW_TERM: bool = false;
// backward: dy of output row m is Σ_r dy[m·slots + r] (times GELU'(pre) of each), the gradient of such a
// broadcast: the per-atom layer's input gradient without a per-slot sum pass
override SUM_SLOTS: bool = false;
// backward: every row's dy is dy's row 0 (a gradient that is the same for every row: the energy head's
// ∂E/∂hidden is its last layer's weight row for every atom), read in place instead of broadcast first
override DY_ROW0: bool = false;
// forward: y += alpha·act(x·Wᵀ + b); backward: dx += alpha·dy·W (sums of products, e.g. over the column
// halves of a layer's input)
override ACCUMULATE: bool = false;
// backward: dx ⊙ GELU'(pre), pre the pre-activation of the input x (x = GELU(pre)): the gradient a GELU layer
// before this one needs, formed here (no GELU on dy then; pre is bound as dx's pre-activation)
override OUT_GELU: bool = false;

@group(0) @binding(6) var<storage, read> res: array<f32>;   // [M, N], RESIDUAL only
@group(0) @binding(7) var<storage, read_write> inv_rms: array<f32>;   // [M], NORM only: 1/rms of each input row
@group(0) @binding(11) var<storage, read> row_in: array<f32>;          // [M / slots, N], ROW_TERM only

fn row_term(m: u32, n: u32) -> f32 {
  if (ROW_TERM) { return row_in[(m / params.slots) * params.cols + n]; }
  return 0.0;
}

fn store_inv_rms(m: u32, v: f32) { inv_rms[m] = v; }

// backward NORM (linear.wgsl): the norm's input x and, with RESIDUAL, the skip connection's gradient (res)
@group(0) @binding(10) var<storage, read> norm_in: array<f32>;   // [M, N]

fn load_inv_rms(m: u32) -> f32 { return inv_rms[m]; }
fn norm_x(m: u32, n: u32) -> f32 { return norm_in[m * params.cols + n]; }
fn norm_res(m: u32, n: u32) -> f32 {
  if (RESIDUAL) { return res[m * params.cols + n]; }
  return 0.0;
}

/** Index of y (forward) or dy (backward) element (m, n) of a row of `width` outputs (y_stride, y_off). */
fn y_index(m: u32, n: u32, width: u32) -> u32 {
  if (params.y_stride == 0u) { return m * width + n; }
  return m * params.y_stride + params.y_off + n;
}

fn store_y(i: u32, v: f32) {
  let j = y_index(i / params.cols, i % params.cols, params.cols);
  if (RESIDUAL) { y_out[j] = res[i] + params.alpha * v; } else if (ACCUMULATE) { y_out[j] += params.alpha * v; } else { y_out[j] = v; }
}

fn load_x(m: u32, k: u32) -> f32 { return x_in[m * params.depth + k]; }

/** dy[m, k] of the backward pass, times GELU'(pre) with GELU. */
fn load_dy(m: u32, k: u32) -> f32 {
  if (SUM_SLOTS) {
    var s = 0.0;
    for (var r = 0u; r < params.slots; r++) { s += load_dy_row(m * params.slots + r, k); }
    return s;
  }
  return load_dy_row(m, k);
}

fn load_dy_row(m: u32, k: u32) -> f32 {
  let dy = x_in[y_index(select(m, 0u, DY_ROW0), k, params.depth)];
  if (GELU) { return dy * gelu_grad(pre[m * params.depth + k]); }
  return dy;
}

fn store_dx(o: vec2u, lid: vec2u, acc: array<array<f32, 4>, 4>) {
  for (var i = 0u; i < 4u; i++) {
    let gm = o.x + lid.y * 4u + i;
    if (gm >= params.rows) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let gn = o.y + lid.x * 4u + j;
      if (gn < params.cols) {
        let i_out = gm * params.cols + gn;
        var v = params.alpha * acc[i][j];
        if (OUT_GELU) { v *= gelu_grad(pre[i_out]); }
        y_out[i_out] = select(0.0, y_out[i_out], ACCUMULATE) + v;
      }
    }
  }
}
