// What linear_dense.wgsl and linear_parts.wgsl share (appended after either): the NORM bindings (1/rms per
// row, the norm's input for the backward) and the dense input-gradient store. The operand file declares
// RESIDUAL, `res` (the skip connection's gradient the backward NORM adds) and store_dx_at (one dx element).

@group(0) @binding(7) var<storage, read_write> inv_rms: array<f32>;   // [M], NORM only: 1/rms of each input row
// backward NORM (linear.wgsl): the norm's input x
@group(0) @binding(10) var<storage, read> norm_in: array<f32>;   // [M, N]

fn store_inv_rms(m: u32, v: f32) { inv_rms[m] = v; }
fn load_inv_rms(m: u32) -> f32 { return inv_rms[m]; }
fn norm_x(m: u32, n: u32) -> f32 { return norm_in[m * params.cols + n]; }
fn norm_res(m: u32, n: u32) -> f32 {
  if (RESIDUAL) { return res[m * params.cols + n]; }
  return 0.0;
}

/** An invocation's 4×4 block of dx = alpha·(dy·W), dense [M, N] in y_out, each element through store_dx_at. */
fn store_dx(o: vec2u, lid: vec2u, acc: array<array<f32, 4>, 4>) {
  for (var i = 0u; i < 4u; i++) {
    let gm = o.x + lid.y * 4u + i;
    if (gm >= params.rows) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let gn = o.y + lid.x * 4u + j;
      if (gn < params.cols) { store_dx_at(gm * params.cols + gn, params.alpha * acc[i][j]); }
    }
  }
}
