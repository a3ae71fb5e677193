// Cell list for the candidate search (needs common.wgsl prepended). The grid lives in
// fractional coordinates f = pos · cell⁻¹: periodic axes span [0, 1) in grid_n cells (each at
// least `reach` wide perpendicular to the others), open axes span the atoms' bounding range
// (found here) in at most grid_n cells of at least `reach`. Counting and filling use integer
// atomics; the order inside a cell does not matter because candidates are sorted by
// (distance, atom, image).

struct Grid {
  n: vec4u,
  reach: vec4u,
  origin: vec4f,
  scale: vec4f,
}

@group(0) @binding(1) var<storage, read> positions: array<f32>;        // N×3, wrapped
@group(0) @binding(2) var<storage, read_write> grid: Grid;
@group(0) @binding(3) var<storage, read_write> atom_cell: array<u32>;
@group(0) @binding(4) var<storage, read_write> cell_work: array<atomic<u32>>;   // max_cells counts, max_cells cursors
// cells + 1 starts, then from max_cells + 1 the atoms of each cell
@group(0) @binding(5) var<storage, read_write> cell_index: array<u32>;
@group(0) @binding(7) var<storage, read> grid_in: Grid;

fn frac_of(a: u32) -> vec3f {
  let p = vec3f(positions[3u * a], positions[3u * a + 1u], positions[3u * a + 2u]);
  return fractional(p);
}

var<workgroup> lo: array<vec3f, 256>;
var<workgroup> hi: array<vec3f, 256>;

@compute @workgroup_size(256)
fn cell_bounds(@builtin(local_invocation_id) lid: vec3u) {
  let t = lid.x;
  // the counts and cursors cell_count and cell_fill add into (saves a zeroing pass)
  for (var i = t; i < 2u * params.max_cells; i += 256u) { atomicStore(&cell_work[i], 0u); }
  var l = vec3f(3.0e38);
  var h = vec3f(-3.0e38);
  for (var a = t; a < params.n_atoms; a += 256u) {
    let f = frac_of(a);
    l = min(l, f);
    h = max(h, f);
  }
  lo[t] = l;
  hi[t] = h;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w >>= 1u) {
    if (t < w) {
      lo[t] = min(lo[t], lo[t + w]);
      hi[t] = max(hi[t], hi[t + w]);
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    var n = vec3u(1u);
    var reach = vec3u(1u);
    var origin = vec3f(0.0);
    var scale = vec3f(1.0);
    for (var k = 0u; k < 3u; k++) {
      if ((params.pbc & (1u << k)) != 0u) {
        n[k] = params.grid_n[k];
        reach[k] = params.reach_cells[k];
        scale[k] = f32(n[k]);
      } else {
        let extent = hi[0][k] - lo[0][k];
        let size = max(params.cell_frac[k], extent / f32(params.grid_n[k]));
        n[k] = clamp(u32(ceil(extent / size)), 1u, params.grid_n[k]);
        origin[k] = lo[0][k];
        scale[k] = 1.0 / size;
      }
    }
    grid = Grid(vec4u(n, 0u), vec4u(reach, 0u), vec4f(origin, 0.0), vec4f(scale, 0.0));
  }
}

@compute @workgroup_size(WG)
fn cell_count(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let a = flat_id(gid, nwg);
  if (a >= params.n_atoms) { return; }
  let n = vec3i(grid_in.n.xyz);
  let idx = clamp(vec3i(floor((frac_of(a) - grid_in.origin.xyz) * grid_in.scale.xyz)), vec3i(0), n - vec3i(1));
  let cell = u32((idx.x * n.y + idx.y) * n.z + idx.z);
  atom_cell[a] = cell;
  atomicAdd(&cell_work[cell], 1u);
}

var<workgroup> partial: array<u32, 256>;

@compute @workgroup_size(256)
fn cell_scan(@builtin(local_invocation_id) lid: vec3u) {
  let t = lid.x;
  let cells = grid_in.n.x * grid_in.n.y * grid_in.n.z;
  let chunk = (cells + 255u) / 256u;
  let first = min(t * chunk, cells);
  let last = min(first + chunk, cells);
  var s = 0u;
  for (var c = first; c < last; c++) { s += atomicLoad(&cell_work[c]); }
  partial[t] = s;
  workgroupBarrier();
  if (t == 0u) {
    var acc = 0u;
    for (var i = 0u; i < 256u; i++) { let v = partial[i]; partial[i] = acc; acc += v; }
    cell_index[cells] = acc;
  }
  workgroupBarrier();
  var acc = partial[t];
  for (var c = first; c < last; c++) { cell_index[c] = acc; acc += atomicLoad(&cell_work[c]); }
}

@compute @workgroup_size(WG)
fn cell_fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let a = flat_id(gid, nwg);
  if (a >= params.n_atoms) { return; }
  let cell = atom_cell[a];
  let k = atomicAdd(&cell_work[params.max_cells + cell], 1u);
  cell_index[params.max_cells + 1u + cell_index[cell] + k] = a;
}
