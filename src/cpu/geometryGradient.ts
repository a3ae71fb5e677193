// Collects ∂E/∂disp of every displacement the model reads (graph edges, ERoPE pairs) into
// ∂E/∂positions and the strain derivative Σ disp ⊗ ∂E/∂disp (stress = sym(·)/V).

export class GeometryGradient {
  readonly gradPositions: Float64Array;
  readonly strain = new Float64Array(9);

  constructor(numAtoms: number) {
    this.gradPositions = new Float64Array(numAtoms * 3);
  }

  /** disp = pos_b + T − pos_a carries gradient g = ∂E/∂disp. */
  addDisplacement(a: number, b: number, disp: ArrayLike<number>, dOff: number, g: ArrayLike<number>, gOff: number): void {
    const P = this.gradPositions;
    for (let q = 0; q < 3; q++) {
      const gq = g[gOff + q];
      P[3 * b + q] += gq;
      P[3 * a + q] -= gq;
      for (let p = 0; p < 3; p++) this.strain[3 * p + q] += disp[dOff + p] * gq;
    }
  }
}
