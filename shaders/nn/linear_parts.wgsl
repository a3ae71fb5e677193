// Column-part operands of linear.wgsl: the output is several arrays side by side, y = [y_0 | y_1 | y_2]
// (each M × part_cols: q, k and v of an attention), each bound on its own, so that no binding holds more
// than one part (maxStorageBufferBindingSize is per binding: at 20,000 atoms one E × H array fits 128 MiB,
// E × 3H does not). The backward reads dy in the same parts and writes a dense dx. The forward input is
// dense; NORM in both passes (the backward with RESIDUAL: + res); no GELU (load_dy never reads pre).
override RESIDUAL: bool = false;

@group(0) @binding(6) var<storage, read_write> part0: array<f32>;     // [M, part_cols]
@group(0) @binding(7) var<storage, read_write> inv_rms: array<f32>;   // [M], NORM only: 1/rms of each input row
@group(0) @binding(8) var<storage, read_write> part1: array<f32>;
@group(0) @binding(9) var<storage, read_write> part2: array<f32>;     // three parts; with two, a placeholder

fn row_term(m: u32, n: u32) -> f32 { return 0.0; }   // ROW_TERM: dense operands only
fn store_inv_rms(m: u32, v: f32) { inv_rms[m] = v; }
// backward NORM (linear.wgsl): the norm's input x and, with RESIDUAL, the skip connection's gradient
@group(0) @binding(10) var<storage, read> norm_in: array<f32>;   // [M, N]
@group(0) @binding(11) var<storage, read> res: array<f32>;       // [M, N]

fn load_inv_rms(m: u32) -> f32 { return inv_rms[m]; }
fn norm_x(m: u32, n: u32) -> f32 { return norm_in[m * params.cols + n]; }
fn norm_res(m: u32, n: u32) -> f32 {
  if (RESIDUAL) { return res[m * params.cols + n]; }
  return 0.0;
}

fn load_x(m: u32, k: u32) -> f32 { return x_in[m * params.depth + k]; }

/** Element (m, n) of [part0 | part1 | part2], n < 3·part_cols. */
fn part_at(m: u32, n: u32) -> vec2u {
  let p = n / params.part_cols;
  return vec2u(p, m * params.part_cols + n - p * params.part_cols);
}

fn store_y(i: u32, v: f32) {
  let m = i / params.cols;
  let at = part_at(m, i - m * params.cols);
  if (at.x == 0u) { part0[at.y] = v; } else if (at.x == 1u) { part1[at.y] = v; } else { part2[at.y] = v; }
}

fn load_dy(m: u32, k: u32) -> f32 {
  let at = part_at(m, k);
  if (at.x == 0u) { return part0[at.y]; }
  if (at.x == 1u) { return part1[at.y]; }
  return part2[at.y];
}

fn store_dx(o: vec2u, lid: vec2u, acc: array<array<f32, 4>, 4>) {
  for (var i = 0u; i < 4u; i++) {
    let gm = o.x + lid.y * 4u + i;
    if (gm >= params.rows) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let gn = o.y + lid.x * 4u + j;
      if (gn < params.cols) { y_out[gm * params.cols + gn] = params.alpha * acc[i][j]; }
    }
  }
}
