// Collects ∂E/∂disp of every displacement the model reads (graph edges, ERoPE pairs) into
// ∂E/∂positions and the strain derivative Σ disp ⊗ ∂E/∂disp (stress = sym(·)/V); terms that also
// depend on the cell (smooth ERoPE distance) bring their own strain derivative.

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

  /**
   * A term that depends on disp = pos_b − pos_a and on the cell (the smooth ERoPE distance):
   * ∂E/∂disp = g, and scale·strain (row-major) is its derivative in the homogeneous strain of both.
   */
  addPair(a: number, b: number, g: ArrayLike<number>, strain: ArrayLike<number>, scale: number): void {
    const P = this.gradPositions;
    for (let q = 0; q < 3; q++) {
      P[3 * b + q] += g[q];
      P[3 * a + q] -= g[q];
    }
    for (let i = 0; i < 9; i++) this.strain[i] += scale * strain[i];
  }
}
