// Key tiles streamed through workgroup memory by forward and backward_query. Needs common.wgsl.

var<workgroup> tile_a: array<f32, TILE * MAXD>;   // k rows of the tile, the group's HG·D columns
var<workgroup> tile_b: array<f32, TILE * MAXD>;   // v rows of the tile
var<workgroup> tile_atoms: array<vec4f, TILE>;

/** Key tile from row t0 for the heads from g0: k into tile_a, v into tile_b, atoms (w = −1 past N so nothing matches). */
fn load_key_tile(t0: u32, g0: u32, lid: u32) {
  let gd = HG * D;
  for (var e = lid; e < TILE * gd; e += BLOCK) {
    let j = t0 + e / gd;
    let col = g0 * D + e % gd;
    let jc = min(j, params.n - 1u);
    tile_a[e] = select(0.0, k_at(jc, col), j < params.n);
    tile_b[e] = select(0.0, v_at(jc, col), j < params.n);
  }
  if (lid < TILE) {
    let j = t0 + lid;
    tile_atoms[lid] = select(vec4f(0.0, 0.0, 0.0, -1.0), atoms[min(j, params.n - 1u)], j < params.n);
  }
}
