// Lennard-Jones forces, energy and virial on the GPU: all pairs with a cutoff and the minimum image in an
// orthorhombic box (box[0], box[4], box[8]), one thread per atom (each pair is visited from both sides, so no
// atomics: the energy and virial of a pair are split half and half). Then one deterministic single-workgroup
// reduction adds the per-atom terms and the analytic tail. Tables as in src/md/lj.ts.
struct LjParams {
  n: u32, num_types: u32, _p0: u32, _p1: u32,
  rc2: f32, u_tail_coef: f32, p_tail_coef: f32, _f0: f32,
}

@group(0) @binding(0) var<uniform> L: LjParams;
@group(0) @binding(1) var<storage, read> pos: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> frc: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> types: array<u32>;
// Per ordered type pair: (4ε, σ², shift, 0).
@group(0) @binding(4) var<storage, read> pair: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> box: array<f32, 16>;
@group(0) @binding(6) var<storage, read_write> out: array<f32, 16>;
// Per atom: energy, W_xx, W_yy, W_zz, W_xy, W_xz, W_yz, unused.
@group(0) @binding(7) var<storage, read_write> per_atom: array<f32>;

@compute @workgroup_size(64)
fn lj_forces(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= L.n) { return; }
  let periodic = box[10] == 1.0;
  let len = vec3<f32>(box[0], box[4], box[8]);
  let inv_len = select(vec3<f32>(0.0), 1.0 / len, periodic);
  let xi = pos[i].xyz;
  let ti = types[i] * L.num_types;
  var f = vec3<f32>(0.0);
  var e = 0.0;
  var wd = vec3<f32>(0.0);
  var wo = vec3<f32>(0.0);
  for (var j = 0u; j < L.n; j++) {
    if (j == i) { continue; }
    var d = xi - pos[j].xyz;
    d = d - len * round(d * inv_len);
    let r2 = dot(d, d);
    if (r2 >= L.rc2) { continue; }
    let p = pair[ti + types[j]];
    let s2 = p.y / r2;
    let s6 = s2 * s2 * s2;
    e += 0.5 * (p.x * (s6 * s6 - s6) - p.z);
    let fr = 6.0 * p.x * (2.0 * s6 * s6 - s6) / r2;
    let fij = fr * d;
    f += fij;
    wd += 0.5 * d * fij;
    wo += 0.5 * vec3<f32>(d.x * fij.y, d.x * fij.z, d.y * fij.z);
  }
  frc[i] = vec4<f32>(f, 0.0);
  let b = 8u * i;
  per_atom[b] = e;
  per_atom[b + 1u] = wd.x; per_atom[b + 2u] = wd.y; per_atom[b + 3u] = wd.z;
  per_atom[b + 4u] = wo.x; per_atom[b + 5u] = wo.y; per_atom[b + 6u] = wo.z;
}

var<workgroup> part_a: array<vec4<f32>, 256>;
var<workgroup> part_b: array<vec4<f32>, 256>;

@compute @workgroup_size(256)
fn lj_reduce(@builtin(local_invocation_index) lid: u32) {
  var a = vec4<f32>(0.0);
  var b = vec4<f32>(0.0);
  for (var i = lid; i < L.n; i += 256u) {
    let k = 8u * i;
    a += vec4<f32>(per_atom[k], per_atom[k + 1u], per_atom[k + 2u], per_atom[k + 3u]);
    b += vec4<f32>(per_atom[k + 4u], per_atom[k + 5u], per_atom[k + 6u], 0.0);
  }
  part_a[lid] = a; part_b[lid] = b;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w = w >> 1u) {
    if (lid < w) { part_a[lid] += part_a[lid + w]; part_b[lid] += part_b[lid + w]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let s = part_a[0]; let o = part_b[0];
    var e = s.x;
    var wt = 0.0;
    let periodic = box[10] == 1.0;
    if (periodic) { e += L.u_tail_coef / box[9]; wt = L.p_tail_coef / box[9]; }
    out[0] = e;
    out[1] = s.y + wt; out[2] = o.x; out[3] = o.y;
    out[4] = o.x; out[5] = s.z + wt; out[6] = o.z;
    out[7] = o.y; out[8] = o.z; out[9] = s.w + wt;
    out[10] = select(0.0, 1.0, periodic);
  }
}
