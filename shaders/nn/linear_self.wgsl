// Dense operands of linear.wgsl for a layer whose output rows are graph slots (`slots` per atom): y is written
// as with linear_dense.wgsl (RESIDUAL: y = res + alpha·(x·Wᵀ + b)), and each atom's slot 0 (the self-loop,
// the node state) also into node_out, the node path's input, so it needs no gather pass. Forward only.

override RESIDUAL: bool = false;

@group(0) @binding(6) var<storage, read> res: array<f32>;                // [M, N], RESIDUAL only
@group(0) @binding(12) var<storage, read_write> node_out: array<f32>;    // [M / slots, N]

fn store_inv_rms(m: u32, v: f32) {}   // no NORM here
fn row_term(m: u32, n: u32) -> f32 { return 0.0; }

fn load_x(m: u32, k: u32) -> f32 { return x_in[m * params.depth + k]; }

fn store_y(i: u32, v: f32) {
  var y = v;
  if (RESIDUAL) { y = res[i] + params.alpha * v; }
  y_out[i] = y;
  let m = i / params.cols;
  if (m % params.slots == 0u) { node_out[(m / params.slots) * params.cols + i - m * params.cols] = y; }
}

// (backward_input is not used with these operands)
fn load_dy(m: u32, k: u32) -> f32 { return 0.0; }
fn load_inv_rms(m: u32) -> f32 { return 1.0; }
fn norm_x(m: u32, n: u32) -> f32 { return 0.0; }
fn norm_res(m: u32, n: u32) -> f32 { return 0.0; }
fn store_dx(o: vec2u, lid: vec2u, acc: array<array<f32, 4>, 4>) {}
