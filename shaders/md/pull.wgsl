// The pull tool's harmonic springs and their work (definitions in src/md/steering.ts; the float64 reference is
// PullAccumulator there). Runs after the force provider has written frc and before the closing half kick.
// The target and stiffness are a uniform the host rewrites when the pointer moves: no per-step read-back.

struct PullParams {
  anchor: vec4<f32>, // xyz: the pressed atom's spring anchor (Å); w: stiffness k (eV/Å²)
  n: u32,
  enabled: u32, // 0 after a release: no force, only the last step's tail of work
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<uniform> U: PullParams;
@group(0) @binding(1) var<storage, read_write> pos: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> frc: array<vec4<f32>>;
// Per atom: xyz the anchor's offset from the target (Å), w 1 when the atom is pulled, else 0.
@group(0) @binding(3) var<storage, read_write> spec: array<vec4<f32>>;
// [0, n): position at the last accumulation; [n, 2n): spring force then; [2n, 3n): work (x: sum, y: Kahan
// compensation), eV, per atom so that no atomics are needed; the host sums the atoms in float64.
@group(0) @binding(4) var<storage, read_write> state: array<vec4<f32>>;

fn spring(i: u32) -> vec3<f32> {
  let s = spec[i];
  if (U.enabled == 0u || s.w == 0.0) { return vec3<f32>(0.0); }
  return U.anchor.w * (U.anchor.xyz + s.xyz - pos[i].xyz);
}

// First pull of this engine: forces so far hold no spring, so the trapezoid starts from zero force here.
@compute @workgroup_size(64)
fn pull_begin(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= U.n) { return; }
  state[i] = vec4<f32>(pos[i].xyz, 0.0);
  state[U.n + i] = vec4<f32>(0.0);
}

// Every step after the forces: add the spring, add ½ (F_prev + F)·(x − x_prev) to the atom's work.
@compute @workgroup_size(64)
fn pull(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= U.n) { return; }
  let x = pos[i].xyz;
  let f = spring(i);
  let fp = state[U.n + i].xyz;
  if (any(f != vec3<f32>(0.0)) || any(fp != vec3<f32>(0.0))) {
    frc[i] = vec4<f32>(frc[i].xyz + f, frc[i].w);
    // x − x_prev of two nearby f32 values is exact: the work sees the step the integrator really took.
    let dw = 0.5 * dot(fp + f, x - state[i].xyz);
    let w = state[2u * U.n + i];
    // Kahan summation: thousands of small increments onto a growing sum.
    let y = dw - w.y;
    let t = w.x + y;
    state[2u * U.n + i] = vec4<f32>(t, (t - w.x) - y, 0.0, 0.0);
  }
  state[i] = vec4<f32>(x, 0.0);
  state[U.n + i] = vec4<f32>(f, 0.0);
}

// A barostat trial's forces: the spring is added, nothing is accumulated (the trial may be rejected).
@compute @workgroup_size(64)
fn pull_force(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= U.n) { return; }
  let f = spring(i);
  frc[i] = vec4<f32>(frc[i].xyz + f, frc[i].w);
}
