// Row glue between the model's stages, one invocation per output element (index folded over a 2-D
// grid of 64-wide workgroups). Entry points:
//   scale_add    out = alpha·a + beta·b                    (residual x + s·u; backward s·dy)
//   fill         out = alpha                               (zero an accumulator inside a replayed program)
//   zero3        out = 0, out2 = 0, out3 = 0 over rows·cols, n2, n3 values (three accumulators, one pass)
//   merge_self   out[e, c] = e % K == 0 ? b[e / K, c] : a[e, c]
//   add_self     out[a·K, c] += b[a, c]
//   split_self   out[e, c] = e % K == 0 ? 0 : a[e, c]; out2[e / K, c] = a[e, c] where e % K == 0
//                (a layer output's gradient on the edges and on the nodes, node state = self-loop slot)
//   place_self   out[e, c] = e % K == 0 ? b[e / K, c] : 0  (a node gradient as the gradient of the slots)
//   embed        out[a, c] = a[Z_a·H + c]                  (table lookup; Z in `index`)
//   add_vec      out[r, c] += a[c]

struct Params {
  rows: u32,          // output rows
  cols: u32,          // columns touched per row
  in_stride: u32,
  out_stride: u32,
  in_off: u32,
  out_off: u32,
  slots: u32,         // K
  alpha: f32,
  beta: f32,
  n2: u32,            // zero3: values of out2 and out3
  n3: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> index: array<u32>;
@group(0) @binding(5) var<storage, read_write> out2: array<f32>;   // split_self, zero3
@group(0) @binding(6) var<storage, read_write> out3: array<f32>;   // zero3

fn flat(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * 64u; }

@compute @workgroup_size(64)
fn scale_add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= params.rows * params.cols) { return; }
  out[i] = params.alpha * a[i] + params.beta * b[i];
}

@compute @workgroup_size(64)
fn fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= params.rows * params.cols) { return; }
  out[i] = params.alpha;
}

@compute @workgroup_size(64)
fn zero3(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i < params.rows * params.cols) { out[i] = 0.0; }
  if (i < params.n2) { out2[i] = 0.0; }
  if (i < params.n3) { out3[i] = 0.0; }
}

@compute @workgroup_size(64)
fn merge_self(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= params.rows * params.cols) { return; }
  let e = i / params.cols; let c = i % params.cols;
  out[i] = select(a[i], b[(e / params.slots) * params.cols + c], e % params.slots == 0u);
}

@compute @workgroup_size(64)
fn add_self(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= params.rows * params.cols) { return; }
  let r = i / params.cols; let c = i % params.cols;
  let o = r * params.slots * params.cols + c;
  out[o] = out[o] + b[i];
}

@compute @workgroup_size(64)
fn split_self(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= params.rows * params.cols) { return; }
  let e = i / params.cols;
  let self_slot = e % params.slots == 0u;
  out[i] = select(a[i], 0.0, self_slot);
  if (self_slot) { out2[(e / params.slots) * params.cols + i % params.cols] = a[i]; }
}

@compute @workgroup_size(64)
fn place_self(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= params.rows * params.cols) { return; }
  let e = i / params.cols;
  out[i] = select(0.0, b[(e / params.slots) * params.cols + i % params.cols], e % params.slots == 0u);
}

@compute @workgroup_size(64)
fn embed(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= params.rows * params.cols) { return; }
  let r = i / params.cols; let c = i % params.cols;
  out[r * params.out_stride + params.out_off + c] = a[index[r] * params.cols + c];
}

@compute @workgroup_size(64)
fn add_vec(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= params.rows * params.cols) { return; }
  out[i] = out[i] + a[i % params.cols];
}
