// Dense operands of linear.wgsl: the forward input is x [M, K]; the input gradient goes to y [M, N].
// RESIDUAL folds a residual block's skip connection into the output layer: y = res + alpha·(x·Wᵀ + b);
// the input gradient is scaled by alpha (the branch's share of dY is alpha·dY). NORM: see linear.wgsl.

override RESIDUAL: bool = false;
// backward: dx += alpha·dy·W (a sum over products, e.g. over the head groups of a q‖k‖v projection)
override ACCUMULATE: bool = false;

@group(0) @binding(6) var<storage, read> res: array<f32>;   // [M, N], RESIDUAL only
@group(0) @binding(7) var<storage, read_write> inv_rms: array<f32>;   // [M], NORM only: 1/rms of each input row

fn store_inv_rms(m: u32, v: f32) { inv_rms[m] = v; }

fn store_y(i: u32, v: f32) {
  if (RESIDUAL) { y_out[i] = res[i] + params.alpha * v; } else { y_out[i] = v; }
}

fn load_x(m: u32, k: u32) -> f32 { return x_in[m * params.depth + k]; }

fn store_dx(o: vec2u, lid: vec2u, acc: array<array<f32, 4>, 4>) {
  for (var i = 0u; i < 4u; i++) {
    let gm = o.x + lid.y * 4u + i;
    if (gm >= params.rows) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let gn = o.y + lid.x * 4u + j;
      if (gn < params.cols) {
        let i_out = gm * params.cols + gn;
        y_out[i_out] = select(0.0, y_out[i_out], ACCUMULATE) + params.alpha * acc[i][j];
      }
    }
  }
}
