// out[0] = Σ_i (a[i, :]·w + b), i < n: the energy head's last layer (one output per atom) and the sum over
// atoms in one pass (per-atom dot products, then the sum): the system's raw energy. One workgroup, tree
// reduction.

struct Params {
  n: u32,
  cols: u32,        // values per row of a (the head's hidden size)
  has_bias: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;      // [cols]
@group(0) @binding(4) var<storage, read> b: array<f32>;      // [1]

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn sum_rows_dot(@builtin(local_invocation_index) lid: u32) {
  let bias = select(0.0, b[0], params.has_bias == 1u);
  var s = 0.0;
  for (var i = lid; i < params.n; i += 256u) {
    var e = bias;
    for (var c = 0u; c < params.cols; c++) { e = fma(a[i * params.cols + c], w[c], e); }
    s += e;
  }
  partial[lid] = s;
  workgroupBarrier();
  for (var stride = 128u; stride > 0u; stride /= 2u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[0] = partial[0]; }
}
