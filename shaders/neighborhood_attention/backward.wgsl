// Neighborhood attention backward (recompute form). Per head: each slot as query forms its row's
// probabilities, dq and (LAE) its own dY, and shares (log-sum-exp, D = Σ_j p_ij dp_ij) through
// workgroup memory; then each slot as key forms dk, dv, the key-bias gradient and its dY. Bias and
// SH gradients are summed over heads and ADDED to grad_bias / grad_sh (each element has one owner
// per dispatch, so no atomics are needed). Needs common.wgsl.
//
// In place: dq, dk, dv overwrite q, k, v, so the backward holds three E×H arrays instead of six (the
// largest item of the step's memory). Safe because a workgroup reads and writes only the elements of its own row
// (row·K + r, or their reverses, a permutation), and it writes head h's columns only after a barrier
// behind every read of them; later heads read other columns.

@group(0) @binding(1) var<storage, read_write> q: array<f32>;          // E×H in, dq out
@group(0) @binding(2) var<storage, read_write> k: array<f32>;          // E×H in, dk out
@group(0) @binding(3) var<storage, read_write> v: array<f32>;          // E×H in, dv out
@group(0) @binding(6) var<storage, read> d_o: array<f32>;              // E×H
@group(0) @binding(7) var<storage, read_write> grad_bias: array<f32>;  // E (accumulated)
@group(0) @binding(8) var<storage, read_write> grad_sh: array<f32>;    // E×sh_size (accumulated)

var<workgroup> row_lse: array<f32, MAXK>;
var<workgroup> row_d: array<f32, MAXK>;

/** Degree l of SH component m (m in l²..(l+1)²−1). */
fn sh_degree(m: u32) -> u32 { return u32(floor(sqrt(f32(m) + 0.5))); }

fn do_at(e: u32, h: u32, c: u32) -> f32 { return d_o[e * params.hidden + h * D + c]; }

@compute @workgroup_size(MAXK)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) r: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.rows) { return; }            // uniform per workgroup
  let inside = r < params.slots;
  let e = element(row, min(r, params.slots - 1u));
  let live = inside && !is_empty(e);
  var yi = lae_sh(e);
  var dy: array<f32, NLAE>;
  var dbias = 0.0;
  let H = params.hidden;
  for (var h = 0u; h < params.num_heads; h++) {
    // --- as query i = this slot
    var qi: array<f32, MAXD>;
    var doi: array<f32, MAXD>;
    var dqi: array<f32, MAXD>;
    for (var c = 0u; c < D; c++) { qi[c] = q_at(e, h, c); doi[c] = do_at(e, h, c); dqi[c] = 0.0; }
    var mx = -3.4e38;
    var sum = 0.0;
    var dsum = 0.0;
    if (live) {
      for (var j = 0u; j < params.slots; j++) {
        let ej = element(row, j);
        if (is_empty(ej)) { continue; }
        let s = logit(&qi, &yi, ej, h);
        let m_new = max(mx, s);
        var dp = 0.0;
        for (var c = 0u; c < D; c++) { dp += doi[c] * v_at(ej, h, c); }
        let corr = exp(mx - m_new);
        let p = exp(s - m_new);
        sum = sum * corr + p;
        dsum = dsum * corr + p * dp;
        mx = m_new;
      }
    }
    let lse = mx + log(max(sum, 1e-30));
    let di = dsum / max(sum, 1e-30);
    if (live) {
      for (var j = 0u; j < params.slots; j++) {
        let ej = element(row, j);
        if (is_empty(ej)) { continue; }
        let p = exp(logit(&qi, &yi, ej, h) - lse);
        var dp = 0.0;
        for (var c = 0u; c < D; c++) { dp += doi[c] * v_at(ej, h, c); }
        let t = p * (dp - di) * params.scale;
        if (LAE) {
          let g = angle_kernel(&yi, ej);
          var dg = array<f32, 5>(0.0, 0.0, 0.0, 0.0, 0.0);   // explicit: SwiftShader does not re-zero a loop-local var
          for (var c = 0u; c < D; c++) {
            let kc = k_at(ej, h, c);
            dqi[c] += t * kc * g[degree(c)];
            dg[degree(c)] += t * qi[c] * kc;
          }
          for (var m = 0u; m < NLAE; m++) { let l = sh_degree(m); dy[m] += dg[l] / f32(2u * l + 1u) * sh[ej * params.sh_size + m]; }
        } else {
          for (var c = 0u; c < D; c++) { dqi[c] += t * k_at(ej, h, c); }
        }
      }
    }
    if (inside) {
      row_lse[r] = lse;
      row_d[r] = di;
    }
    workgroupBarrier();
    // --- as key j = this slot
    var kj: array<f32, MAXD>;
    var vj: array<f32, MAXD>;
    var dkj: array<f32, MAXD>;
    var dvj: array<f32, MAXD>;
    for (var c = 0u; c < D; c++) { kj[c] = k_at(e, h, c); vj[c] = v_at(e, h, c); dkj[c] = 0.0; dvj[c] = 0.0; }
    if (live) {
      for (var i = 0u; i < params.slots; i++) {
        let ei = element(row, i);
        if (is_empty(ei)) { continue; }
        var g: array<f32, 5>;
        if (LAE) { var yk = yi; g = angle_kernel(&yk, ei); }
        var s = 0.0;
        var dp = 0.0;
        for (var c = 0u; c < D; c++) {
          let w = select(1.0, g[degree(c)], LAE);
          s += q_at(ei, h, c) * kj[c] * w;
          dp += do_at(ei, h, c) * vj[c];
        }
        let p = exp(s * params.scale + key_bias(e) - row_lse[i]);
        let ds = p * (dp - row_d[i]);
        dbias += ds;
        let t = ds * params.scale;
        var dg = array<f32, 5>(0.0, 0.0, 0.0, 0.0, 0.0);   // explicit: SwiftShader does not re-zero a loop-local var
        for (var c = 0u; c < D; c++) {
          let w = select(1.0, g[degree(c)], LAE);
          let qc = q_at(ei, h, c);
          dkj[c] += t * qc * w;
          dvj[c] += p * do_at(ei, h, c);
          if (LAE) { dg[degree(c)] += t * qc * kj[c]; }
        }
        if (LAE) {
          for (var m = 0u; m < NLAE; m++) { let l = sh_degree(m); dy[m] += dg[l] / f32(2u * l + 1u) * sh[ei * params.sh_size + m]; }
        }
      }
    }
    // every invocation's reads of head h (and of row_lse, row_d) are done before anyone overwrites them
    storageBarrier();
    if (inside) {
      for (var c = 0u; c < D; c++) {
        q[e * H + h * D + c] = select(0.0, dqi[c], live);
        k[e * H + h * D + c] = dkj[c];
        v[e * H + h * D + c] = dvj[c];
      }
    }
  }
  if (live) {
    grad_bias[e] += dbias;
    if (LAE) {
      for (var m = 0u; m < min(NLAE, params.sh_size); m++) { grad_sh[e * params.sh_size + m] += dy[m]; }
    }
  }
}
