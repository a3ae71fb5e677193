// Dense operands of linear.wgsl: the forward input is x [M, K]; the input gradient goes to y [M, N].
// RESIDUAL folds a residual block's skip connection into the output layer: y = res + alpha·(x·Wᵀ + b);
// the input gradient is scaled by alpha (the branch's share of dY is alpha·dY). NORM: see linear.wgsl.
// Needs linear_dx.wgsl (NORM bindings and the dense dx store).

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

@group(0) @binding(6) var<storage, read> res: array<f32>;   // [M, N], RESIDUAL only; backward NORM: the skip connection's gradient
@group(0) @binding(11) var<storage, read> row_in: array<f32>;          // [M / slots, N], ROW_TERM only

fn row_term(m: u32, n: u32) -> f32 {
  if (ROW_TERM) { return row_in[(m / params.slots) * params.cols + n]; }
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

/** dx element i_out (row-major [M, N]) of store_dx (linear_dx.wgsl), v = alpha·(dy·W). */
fn store_dx_at(i_out: u32, alpha_v: f32) {
  var v = alpha_v;
  if (OUT_GELU) { v *= gelu_grad(pre[i_out]); }
  y_out[i_out] = select(0.0, y_out[i_out], ACCUMULATE) + v;
}
