// Column-part operands of linear.wgsl: the output is several arrays side by side, y = [y_0 | y_1 | y_2]
// (each M × part_cols: q, k and v of an attention), each bound on its own, so that no binding holds more
// than one part (maxStorageBufferBindingSize is per binding: at 20,000 atoms one E × H array fits 128 MiB,
// E × 3H does not). The backward reads dy in the same parts and writes a dense dx. The forward input is
// dense; NORM in both passes (the backward with RESIDUAL: + res); no GELU (load_dy never reads pre).
// Needs linear_dx.wgsl (NORM bindings and the dense dx store).
override RESIDUAL: bool = false;

@group(0) @binding(6) var<storage, read_write> part0: array<f32>;     // [M, part_cols]
@group(0) @binding(8) var<storage, read_write> part1: array<f32>;
@group(0) @binding(9) var<storage, read_write> part2: array<f32>;     // three parts; with two, a placeholder
@group(0) @binding(11) var<storage, read> res: array<f32>;       // [M, N], backward NORM with RESIDUAL

fn row_term(m: u32, n: u32) -> f32 { return 0.0; }   // ROW_TERM: dense operands only

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

/** dx element i_out (row-major [M, N]) of store_dx (linear_dx.wgsl). */
fn store_dx_at(i_out: u32, v: f32) { y_out[i_out] = v; }
