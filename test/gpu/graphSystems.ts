// Small systems and graph settings shared by the graph/feature kernel tests: a free cluster, a
// periodic triclinic cell (some atoms outside it, so wrapping matters) and a dense cluster
// where the top-knn_candidates truncation is active.
import type { ArchitectureConfig } from '../../src/model/config';
import { buildNeighborGraph, type NeighborGraph } from '../../src/cpu/graph';
import type { Cell } from '../../src/geometry/cell';
import { randomCluster } from '../helpers/systems';
import { goldenModel, goldenStructure, readGolden } from '../helpers/golden';
import type { GpuCellInput } from '../../src/gpu/ops/graph';
import { f32 } from './helpers';

export interface GraphCase {
  name: string;
  arch: ArchitectureConfig;
  /** float32-exact positions, N×3. */
  positions: Float64Array;
  cell: Cell | null;
  gpuCell: GpuCellInput;
}

export function archWith(over: Partial<ArchitectureConfig>): ArchitectureConfig {
  return {
    hidden_size: 8, num_layers: 1, num_heads: 1, max_num_elements: 10,
    cutoff: 4.0, knn_k: 8, knn_soft: true, knn_sigmoid_scale: 0.2, knn_lse_scale: 0.1, knn_candidates: 20,
    rbf_size: 12, sh_lmax: 3, boo_lmax: 5, ffn_multiplier: 2, output_multiplier: 2,
    use_node_attention: true, use_lae: true, lae_frequency_list: [2, 2, 2, 1, 1], use_erope: true, erope_num_freq: 8,
    use_charge_spin: false, rmsnorm_eps: 1.1920928955078125e-7, boo_envelope_weighted: false,
    erope_smooth_minimum_image: false, knn_candidate_margin: false,
    ...over,
  };
}

export function graphCases(): GraphCase[] {
  const cluster = randomCluster(37, 7.5, 1.0, 11);
  // Triclinic cell; atoms drawn in a larger box, so several lie outside the cell.
  const tri = randomCluster(29, 8.0, 1.1, 12);
  const triCell = f32([6.2, 0, 0, 1.3, 5.7, 0, -0.9, 1.1, 6.4]);
  const dense = randomCluster(53, 5.0, 0.95, 13);
  const free: GpuCellInput = { vectors: null, pbc: [false, false, false] };
  return [
    { name: 'free cluster (37 atoms)', arch: archWith({}), positions: f32(cluster.positions), cell: null, gpuCell: free },
    {
      name: 'periodic triclinic cell (29 atoms)', arch: archWith({ cutoff: 3.6, knn_k: 7, knn_candidates: 24 }),
      positions: f32(tri.positions), cell: { vectors: triCell, pbc: [true, true, true] }, gpuCell: { vectors: triCell, pbc: [true, true, true] },
    },
    {
      name: 'dense cluster with truncation (53 atoms)', arch: archWith({ cutoff: 3.5, knn_k: 6, knn_candidates: 13 }),
      positions: f32(dense.positions), cell: null, gpuCell: free,
    },
  ];
}

/** The graph cases with BOO as the envelope-weighted mean (architecture.boo_envelope_weighted). */
export function booWeightedCases(): GraphCase[] {
  return graphCases().map((c) => ({ ...c, name: `${c.name}, envelope-weighted BOO`, arch: { ...c.arch, boo_envelope_weighted: true } }));
}

export function cpuGraph(c: GraphCase): NeighborGraph {
  return buildNeighborGraph(c.positions, c.cell, c.arch);
}

export function maxEdgesPerRow(g: NeighborGraph): number {
  let m = 0;
  for (let a = 0; a < g.numAtoms; a++) m = Math.max(m, g.edgeRowStart[a + 1] - g.edgeRowStart[a]);
  return m;
}

/** The periodic water box and the dense truncation case of the public-code golden data, with their real settings. */
export function goldenGraphCases(): GraphCase[] {
  return (['case3_waterbox12_pbc_allflags', 'case4_dense70_truncation'] as const).map((name) => {
    const gj = readGolden(name);
    const arch = goldenModel(gj).config.architecture;
    const s = goldenStructure(gj);
    const periodic = !!s.cell && s.pbc.some(Boolean);
    return {
      name: `golden ${name} (${s.numbers.length} atoms)`, arch, positions: f32(s.positions),
      cell: periodic ? { vectors: s.cell!, pbc: s.pbc } : null,
      gpuCell: { vectors: periodic ? s.cell : null, pbc: s.pbc },
    };
  });
}

/** Cells big enough for a 3×3×3 (and 3×1×3) grid, so the cell list wraps cells across the boundary. */
export function cellListCases(): GraphCase[] {
  const s = randomCluster(150, 13.0, 1.15, 14);
  const vectors = f32([12.5, 0, 0, 2.1, 11.8, 0, -1.4, 1.7, 12.2]);
  const arch = archWith({ cutoff: 3.0, knn_k: 6, knn_candidates: 12 });
  const bulk: [boolean, boolean, boolean] = [true, true, true];
  const slab: [boolean, boolean, boolean] = [true, false, true];
  return [
    { name: 'triclinic 3×3×3 cells (150 atoms)', arch, positions: f32(s.positions), cell: { vectors, pbc: bulk }, gpuCell: { vectors, pbc: bulk } },
    { name: 'slab, periodic a and c only (150 atoms)', arch, positions: f32(s.positions), cell: { vectors, pbc: slab }, gpuCell: { vectors, pbc: slab } },
  ];
}
