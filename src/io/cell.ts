// Temporary alias for test/e2e/workbench.e2e.ts, which another change in progress holds; remove it once that
// file imports from src/geometry/cell.ts, where the cell algebra lives.
export { cellParameters } from '../geometry/cell';
