// Live plots (uPlot): energies with the drift fit and its value, temperature, pressure, density,
// MSD, RDF, the vibrational density of states (VDOS) and tracked measurements; plus the exports (thermo CSV, trajectory extXYZ or DCD, current frame PDB).

import { useCallback, useState } from 'react';
import type uPlot from 'uplot';
import { CHEMICAL_SYMBOLS } from '../../io/elements';
import { downloadBlob, downloadText } from '../download';
import { framePdb, portableFileStem, thermoCsv, trajectoryDcd, trajectoryExtXyz } from '../exporters';
import { StructureWriteError } from '../../io/writeErrors';
import { maxRdfRadius, radialDistribution } from '../geometry/rdf';
import { Plot, type PlotSpec } from '../plots/Plot';
import { driftReadout, fitDrift, formatRatio } from '../plots/drift';
import { trajectoryVdos, type TrajectoryVdos } from '../plots/vdos';
import { VdosError } from '../../md/vdos';
import { notify, useWorkbench } from '../store';

const ENERGY: PlotSpec = {
  title: 'Energy change since start',
  xLabel: 't (ps)',
  yLabel: 'ΔE (eV)',
  series: [
    { label: 'ΔE_pot', stroke: '#5aa9ff' },
    { label: 'ΔE_kin', stroke: '#ff9f43' },
    { label: 'ΔE_tot', stroke: '#8fd694' },
    { label: 'ΔE_tot + thermostat − W_pull (conserved)', stroke: '#e8e8e8', width: 2 },
    { label: 'drift fit', stroke: '#ff5c7a', dash: [6, 4] },
    { label: 'W_pull (pull tool work)', stroke: '#ff3df2', dash: [2, 3] },
  ],
};
const TEMPERATURE: PlotSpec = { title: 'Temperature', xLabel: 't (ps)', yLabel: 'T (K)', series: [{ label: 'T', stroke: '#ff7b54' }, { label: 'target', stroke: '#777', dash: [4, 4] }] };
const PRESSURE: PlotSpec = { title: 'Pressure', xLabel: 't (ps)', yLabel: 'P (bar)', series: [{ label: 'P', stroke: '#7bd389' }] };
const DENSITY: PlotSpec = { title: 'Density', xLabel: 't (ps)', yLabel: 'ρ (g/cm³)', series: [{ label: 'ρ', stroke: '#c08bff' }] };
const MSD: PlotSpec = { title: 'Mean squared displacement', xLabel: 't (ps)', yLabel: 'MSD (Å²)', series: [{ label: 'MSD', stroke: '#4fd1c5' }] };
const VDOS: PlotSpec = { title: 'Vibrational density of states', xLabel: 'ν̃ (cm⁻¹)', yLabel: 'states per cm⁻¹', series: [{ label: 'VDOS', stroke: '#ff8fab' }] };
const RDF: PlotSpec = { title: 'Radial distribution function', xLabel: 'r (Å)', yLabel: 'g(r)', series: [{ label: 'g(r)', stroke: '#f6c343' }] };

function relative(col: number[]): number[] {
  const i0 = col.findIndex((v) => Number.isFinite(v));
  const e0 = i0 >= 0 ? col[i0] : 0;
  return col.map((v) => v - e0);
}

function energyData(): uPlot.AlignedData {
  const s = useWorkbench.getState();
  const t = s.thermo;
  const econs = relative(t.conserved);
  const fit = s.system ? fitDrift(t.time_ps, econs, s.system.numbers.length) : null;
  const line = fit ? t.time_ps.map((x) => fit.intercept + fit.slope * x) : t.time_ps.map(() => null);
  return [t.time_ps, relative(t.epot), relative(t.ekin), relative(t.etot), econs, line, t.pullWork] as uPlot.AlignedData;
}
const temperatureData = (): uPlot.AlignedData => {
  const s = useWorkbench.getState();
  const target = s.params.ensemble === 'nve' ? null : s.params.temperature;
  return [s.thermo.time_ps, s.thermo.temperature, s.thermo.time_ps.map(() => target)] as uPlot.AlignedData;
};
const pressureData = (): uPlot.AlignedData => [useWorkbench.getState().thermo.time_ps, useWorkbench.getState().thermo.pressure];
const densityData = (): uPlot.AlignedData => [useWorkbench.getState().thermo.time_ps, useWorkbench.getState().thermo.density];
const msdData = (): uPlot.AlignedData => [useWorkbench.getState().msd.time_ps, useWorkbench.getState().msd.msd];
const rdfData = (): uPlot.AlignedData => {
  const r = useWorkbench.getState().rdf;
  return r ? [r.r, r.g] : [[], []];
};

function DriftReadout() {
  useWorkbench((s) => s.thermoVersion);
  const s = useWorkbench.getState();
  const fit = s.system ? driftReadout(s.thermo.time_ps, s.thermo.conserved, s.thermo.ekin, s.system.numbers.length) : null;
  const thermostat = s.params.ensemble !== 'nve';
  const pulled = s.thermo.pullWork.some((w) => w !== 0);
  return (
    <p className="drift" data-testid="drift" data-value={fit ? fit.meVPerAtomPs : ''} data-ratio={fit ? fit.ratio : ''}>
      drift: {fit ? `${fit.meVPerAtomPs.toFixed(3)} meV/atom/ps, |slope|·t/σ(E_kin) ${formatRatio(fit.ratio)}, extrapolated to 50 ps ${formatRatio(fit.ratio50ps)}` : 'needs ≥ 3 samples'}
      <span className="muted"> (linear fit of E_pot + E_kin{thermostat ? ' + thermostat energy' : ''}{pulled ? ' − W_pull' : ''}, {fit?.points ?? 0} points)</span>
    </p>
  );
}

function MeasurementPlots() {
  const tracked = useWorkbench((s) => s.tracked);
  const version = useWorkbench((s) => s.thermoVersion);
  return (
    <>
      {tracked.map((m) => (
        <MeasurementPlot key={m.id} id={m.id} label={m.label} version={version} />
      ))}
    </>
  );
}

function MeasurementPlot({ id, label, version }: { id: number; label: string; version: number }) {
  const data = useCallback((): uPlot.AlignedData => {
    const m = useWorkbench.getState().tracked.find((x) => x.id === id);
    return m ? [m.time_ps, m.values] : [[], []];
  }, [id]);
  const unit = label.includes('distance') ? 'Å' : label.includes('position') ? 'Å' : '°';
  const spec: PlotSpec = { title: label, xLabel: 't (ps)', yLabel: unit, series: [{ label, stroke: '#ffd166' }] };
  return <Plot spec={spec} data={data} version={version} testId={`plot-measure-${id}`} />;
}

// Computed on demand from the stored trajectory (an NVE run shows the model's own vibrations; a thermostat
// broadens the peaks); kept in this panel, not in the store: nothing else reads it.
function VdosPlot() {
  const [vdos, setVdos] = useState<TrajectoryVdos | null>(null);
  const [version, setVersion] = useState(0);
  const compute = () => {
    const s = useWorkbench.getState();
    if (!s.system || !s.trajectory.length) return notify('warning', 'No trajectory yet: run some steps (NVE) first.');
    try {
      const v = trajectoryVdos(s.system.numbers, s.trajectory);
      if (v.nyquist < 3500) notify('warning', `Frames are ${v.dt_fs.toFixed(2)} fs apart: the VDOS ends at ${v.nyquist.toFixed(0)} cm⁻¹, below C–H/O–H stretches (fewer steps per frame, or a shorter run, keeps them).`);
      setVdos(v);
      setVersion((x) => x + 1);
    } catch (e) {
      if (e instanceof VdosError) return notify('warning', e.message);
      throw e;
    }
  };
  const data = useCallback((): uPlot.AlignedData => (vdos ? [Array.from(vdos.wavenumber), Array.from(vdos.intensity)] : [[], []]), [vdos]);
  return (
    <>
      <div className="buttons">
        <button data-testid="compute-vdos" onClick={compute} title="Fourier transform of the mass-weighted velocity autocorrelation (Hann window) of the stored frames">compute VDOS (trajectory)</button>
        <span className="muted" data-testid="vdos-label">{vdos ? `${vdos.frames} frames ${vdos.dt_fs.toFixed(2)} fs apart, resolution ${vdos.resolution.toFixed(0)} cm⁻¹, up to ${vdos.nyquist.toFixed(0)} cm⁻¹` : ''}</span>
      </div>
      <Plot spec={VDOS} data={data} version={version} testId="plot-vdos" />
    </>
  );
}

export function PlotsPanel() {
  const version = useWorkbench((s) => s.thermoVersion);
  const rdfLabel = useWorkbench((s) => s.rdf?.label ?? '');
  const system = useWorkbench((s) => s.system);
  const [pair, setPair] = useState('all');
  const periodic = !!system?.cell && system.pbc.every((p) => p);
  const elements = system ? [...new Set(Array.from(system.numbers))].sort((a, b) => a - b) : [];
  const pairs = ['all', ...elements.flatMap((a, i) => elements.slice(i).map((b) => `${CHEMICAL_SYMBOLS[a]}-${CHEMICAL_SYMBOLS[b]}`))];

  const computeRdf = () => {
    const s = useWorkbench.getState();
    if (!s.system || !s.frame?.cell) return;
    const frames = s.trajectory.length ? s.trajectory.slice(-10) : [s.frame];
    const [za, zb] = pair === 'all' ? [0, 0] : pair.split('-').map((x) => CHEMICAL_SYMBOLS.indexOf(x));
    const rMax = Math.min(8, maxRdfRadius(s.frame.cell));
    const res = radialDistribution(frames, s.system.numbers, s.system.pbc, rMax, 120, za, zb);
    if (!res) return notify('warning', 'g(r) needs a fully periodic system with atoms of the chosen elements.');
    useWorkbench.setState({ rdf: { ...res, label: `${pair}, ${frames.length} frame(s)` }, thermoVersion: s.thermoVersion + 1 });
  };

  const exportCsv = () => {
    const s = useWorkbench.getState();
    if (!s.thermo.step.length) return notify('warning', 'Nothing to export yet: run some steps first.');
    downloadText(thermoCsv(s.thermo), `${s.systemName || 'run'}-thermo.csv`, 'text/csv');
  };
  const exportXyz = () => {
    const s = useWorkbench.getState();
    if (!s.system || !s.trajectory.length) return notify('warning', 'No trajectory yet: run some steps first.');
    downloadText(trajectoryExtXyz(s.system, s.trajectory), `${s.systemName || 'run'}-trajectory.extxyz`);
  };
  // DCD and PDB describe a cell by lengths and angles and have fixed-width fields: what they cannot hold is
  // reported, the run and the other exports are unaffected.
  const exportDcd = () => {
    const s = useWorkbench.getState();
    if (!s.system || !s.trajectory.length) return notify('warning', 'No trajectory yet: run some steps first.');
    try {
      const dcd = trajectoryDcd(s.system, s.trajectory, s.params.timestep);
      downloadBlob(new Blob([dcd.bytes], { type: 'application/octet-stream' }), `${portableFileStem(s.systemName)}-trajectory.dcd`);
      if (!dcd.evenlySpaced) {
        notify('warning', 'The stored frames are not evenly spaced (thinned as the run grew, or the interval changed); DCD keeps one frame interval, so frame times in other tools are approximate. Positions and cells are exact.');
      }
    } catch (e) {
      if (e instanceof StructureWriteError) return notify('error', e.message);
      throw e;
    }
  };
  const exportPdb = () => {
    const s = useWorkbench.getState();
    if (!s.system || !s.frame) return notify('warning', 'Load a system first.');
    try {
      downloadText(framePdb(s.system, s.frame, `${s.systemName || 'run'} step ${s.frame.step}`), `${portableFileStem(s.systemName)}-step${s.frame.step}.pdb`, 'chemical/x-pdb');
    } catch (e) {
      if (e instanceof StructureWriteError) return notify('error', e.message);
      throw e;
    }
  };

  return (
    <section className="panel plots" data-testid="plots-panel">
      <div className="plots-head">
        <h2>Observables</h2>
        <div className="buttons">
          <button data-testid="export-csv" onClick={exportCsv}>thermo CSV</button>
          <button data-testid="export-extxyz" onClick={exportXyz}>trajectory extXYZ</button>
          <button data-testid="export-dcd" onClick={exportDcd} title="DCD trajectory for VMD, MDAnalysis, mdtraj (use the PDB as topology)">trajectory DCD</button>
          <button data-testid="export-pdb" onClick={exportPdb} title="the current frame as PDB (CRYST1 cell, element columns)">frame PDB</button>
        </div>
      </div>
      <DriftReadout />
      <Plot spec={ENERGY} data={energyData} version={version} testId="plot-energy" />
      <Plot spec={TEMPERATURE} data={temperatureData} version={version} testId="plot-temperature" />
      {periodic && <Plot spec={PRESSURE} data={pressureData} version={version} testId="plot-pressure" />}
      {periodic && <Plot spec={DENSITY} data={densityData} version={version} testId="plot-density" />}
      <Plot spec={MSD} data={msdData} version={version} testId="plot-msd" />
      <VdosPlot />
      {periodic && (
        <>
          <div className="buttons">
            <select value={pair} onChange={(e) => setPair(e.target.value)}>{pairs.map((p) => <option key={p}>{p}</option>)}</select>
            <button data-testid="compute-rdf" onClick={computeRdf}>compute g(r) (last 10 frames)</button>
            <span className="muted">{rdfLabel}</span>
          </div>
          <Plot spec={RDF} data={rdfData} version={version} testId="plot-rdf" />
        </>
      )}
      <MeasurementPlots />
    </section>
  );
}
