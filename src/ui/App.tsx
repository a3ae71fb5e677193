// The workbench: model, system and simulation panels on the left, the 3D viewer in the middle, live
// plots on the right, status bar below. Files can be dropped anywhere on the page.

import { useEffect, useState } from 'react';
import { handleFiles } from './actions';
import { loadLinkedModel, loadLinkedSystem, readLinkedSession } from './session/restore';
import { SessionControls } from './session/SessionControls';
import { fetchBuiltinSystems, type BuiltinSystem } from './system/builtins';
import { startEngine } from './engine/client';
import { MeasurePanel } from './panels/MeasurePanel';
import { ModelPanel } from './panels/ModelPanel';
import { PlotsPanel } from './panels/PlotsPanel';
import { SimPanel } from './panels/SimPanel';
import { StatusBar } from './panels/StatusBar';
import { TimelinePanel } from './panels/TimelinePanel';
import { TrajectoryPanel } from './panels/TrajectoryPanel';
import { SystemPanel } from './panels/SystemPanel';
import { useWorkbench } from './store';
import { installTestHooks } from './testHooks';
import { Viewer } from './viewer/Viewer';
import './styles.css';

export function App() {
  const gpuNotice = useWorkbench((s) => s.gpuNotice);
  const [builtins, setBuiltins] = useState<BuiltinSystem[]>([]);
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    startEngine();
    installTestHooks();
    // A link's session (URL hash) replaces the defaults before anything loads; bad fields are named in a notice.
    const session = readLinkedSession();
    void loadLinkedModel(session);
    void fetchBuiltinSystems().then((list) => {
      setBuiltins(list);
      void loadLinkedSystem(session, list);
    });
  }, []);

  useEffect(() => {
    let depth = 0;
    const enter = (e: DragEvent) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      depth++;
      setDragging(true);
    };
    const over = (e: DragEvent) => e.preventDefault();
    const leave = () => {
      depth = Math.max(0, depth - 1);
      if (!depth) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      e.preventDefault();
      depth = 0;
      setDragging(false);
      const files = Array.from(e.dataTransfer?.files ?? []);
      if (files.length) void handleFiles(files);
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, []);

  return (
    <div className="app">
      <header className="topbar">
        <h1>scaip-web</h1>
        <span className="muted">AllScAIP molecular dynamics on WebGPU</span>
        <SessionControls />
        {gpuNotice && <span className="gpu-notice" role="status" data-testid="gpu-notice">{gpuNotice}</span>}
      </header>
      <aside className="left">
        <ModelPanel />
        <SystemPanel builtins={builtins} />
        <SimPanel />
      </aside>
      <main className="center">
        <Viewer />
        <TimelinePanel />
        <MeasurePanel />
      </main>
      <aside className="right">
        <TrajectoryPanel />
        <PlotsPanel />
      </aside>
      <StatusBar />
      {dragging && <div className="drop-overlay">Drop an XYZ / extXYZ / PDB file, or model.json + .safetensors</div>}
    </div>
  );
}
