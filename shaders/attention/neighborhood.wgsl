// kNN neighborhood attention: every edge slot of a row attends to every slot of the same row
// (rows = centers in the source layout, neighbors in the destination layout), per head, with
// the envelope key bias −x²/(1−x²) added to the logits. q, k, v are packed per edge as
// [q | k | v] (E × 3H) so one projection GEMM fills them and the kernels stay within 8
// storage bindings. Forward keeps each query's logsumexp; the backward recomputes the
// probabilities from it: pass A (one invocation per query slot and head) gives dq and
// D = dO·o, pass B (one per key slot and head) gives dk, dv and the per-head key-bias gradient.
// No atomics: every output element has exactly one writer.

const MAX_D: u32 = 64u;

struct Params {
  slots: u32,       // E: edges (each edge is one slot of exactly one row in this layout)
  rows: u32,
  heads: u32,
  head_dim: u32,
  scale: f32,       // 1/√d
}

// slot_layout: [row_start (rows+1) | slot_edge (E) | slot_row (E)]: the slots of row r are
// slot_edge[row_start[r] .. row_start[r+1]); slot_row[p] is the row of slot p.
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> key_bias: array<f32>;       // per edge
@group(0) @binding(3) var<storage, read> slot_layout: array<u32>;
@group(0) @binding(4) var<storage, read_write> o: array<f32>;        // forward: written; backward A: read
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;    // [lse (E×heads) | D (E×heads)]
@group(0) @binding(6) var<storage, read> d_o: array<f32>;            // backward: dL/do (E × H)
@group(0) @binding(7) var<storage, read_write> grad: array<f32>;     // A: dq (E×H); B: [dk | dv] (E × 2H)
@group(0) @binding(8) var<storage, read_write> bias_grad: array<f32>;// B: per edge and head (E × heads)

fn row_start(r: u32) -> u32 { return slot_layout[r]; }
fn slot_edge(p: u32) -> u32 { return slot_layout[params.rows + 1u + p]; }
fn slot_row(p: u32) -> u32 { return slot_layout[params.rows + 1u + params.slots + p]; }

fn q_at(e: u32, h: u32, c: u32) -> f32 { return qkv[e * 3u * params.heads * params.head_dim + h * params.head_dim + c]; }
fn k_at(e: u32, h: u32, c: u32) -> f32 { return qkv[(e * 3u + 1u) * params.heads * params.head_dim + h * params.head_dim + c]; }
fn v_at(e: u32, h: u32, c: u32) -> f32 { return qkv[(e * 3u + 2u) * params.heads * params.head_dim + h * params.head_dim + c]; }

fn logit(i: u32, j: u32, h: u32) -> f32 {
  var s = 0.0;
  for (var c = 0u; c < params.head_dim; c++) { s = fma(q_at(i, h, c), k_at(j, h, c), s); }
  return s * params.scale + key_bias[j];
}

fn thread_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 { return (wid.x + wid.y * nwg.x) * 64u + lid; }

@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid);
  if (t >= params.slots * params.heads) { return; }
  let p = t / params.heads; let h = t % params.heads;
  let i = slot_edge(p); let r = slot_row(p);
  let H = params.heads * params.head_dim;
  // Online softmax: running max m, normaliser l, unnormalised output acc.
  var m = -3.4e38; var l = 0.0;
  var acc: array<f32, MAX_D>;
  for (var jp = row_start(r); jp < row_start(r + 1u); jp++) {
    let j = slot_edge(jp);
    let s = logit(i, j, h);
    let m_new = max(m, s);
    let corr = exp(m - m_new);
    let w = exp(s - m_new);
    l = l * corr + w;
    for (var c = 0u; c < params.head_dim; c++) { acc[c] = acc[c] * corr + w * v_at(j, h, c); }
    m = m_new;
  }
  for (var c = 0u; c < params.head_dim; c++) { o[i * H + h * params.head_dim + c] = acc[c] / l; }
  stats[i * params.heads + h] = m + log(l);
}

@compute @workgroup_size(64)
fn backward_query(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid);
  if (t >= params.slots * params.heads) { return; }
  let p = t / params.heads; let h = t % params.heads;
  let i = slot_edge(p); let r = slot_row(p);
  let H = params.heads * params.head_dim;
  let io = i * H + h * params.head_dim;
  var D = 0.0;
  for (var c = 0u; c < params.head_dim; c++) { D = fma(d_o[io + c], o[io + c], D); }
  let lse = stats[i * params.heads + h];
  var dq: array<f32, MAX_D>;
  for (var jp = row_start(r); jp < row_start(r + 1u); jp++) {
    let j = slot_edge(jp);
    let P = exp(logit(i, j, h) - lse);
    var dP = 0.0;
    for (var c = 0u; c < params.head_dim; c++) { dP = fma(d_o[io + c], v_at(j, h, c), dP); }
    let ds = P * (dP - D) * params.scale;
    for (var c = 0u; c < params.head_dim; c++) { dq[c] = fma(ds, k_at(j, h, c), dq[c]); }
  }
  for (var c = 0u; c < params.head_dim; c++) { grad[io + c] = dq[c]; }
  stats[(params.slots + i) * params.heads + h] = D;
}

@compute @workgroup_size(64)
fn backward_key(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = thread_index(wid, nwg, lid);
  if (t >= params.slots * params.heads) { return; }
  let p = t / params.heads; let h = t % params.heads;
  let j = slot_edge(p); let r = slot_row(p);
  let H = params.heads * params.head_dim;
  var dk: array<f32, MAX_D>;
  var dv: array<f32, MAX_D>;
  var db = 0.0;
  for (var ip = row_start(r); ip < row_start(r + 1u); ip++) {
    let i = slot_edge(ip);
    let io = i * H + h * params.head_dim;
    let P = exp(logit(i, j, h) - stats[i * params.heads + h]);
    var dP = 0.0;
    for (var c = 0u; c < params.head_dim; c++) { dP = fma(d_o[io + c], v_at(j, h, c), dP); }
    let ds = P * (dP - stats[(params.slots + i) * params.heads + h]);
    db += ds;
    for (var c = 0u; c < params.head_dim; c++) {
      dk[c] = fma(ds * params.scale, q_at(i, h, c), dk[c]);
      dv[c] = fma(P, d_o[io + c], dv[c]);
    }
  }
  for (var c = 0u; c < params.head_dim; c++) {
    grad[j * 2u * H + h * params.head_dim + c] = dk[c];
    grad[(j * 2u + 1u) * H + h * params.head_dim + c] = dv[c];
  }
  bias_grad[j * params.heads + h] = db;
}

// Sum the per-head key-bias gradients of each edge (pass B cannot: heads are separate invocations).
@compute @workgroup_size(64)
fn reduce_bias_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = thread_index(wid, nwg, lid);
  if (e >= params.slots) { return; }
  var s = 0.0;
  for (var h = 0u; h < params.heads; h++) { s += bias_grad[e * params.heads + h]; }
  o[e] = s;
}
