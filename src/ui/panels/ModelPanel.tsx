// Model panel: the loaded model's identity, size, flags, cutoff and card; a progress bar while the
// default downloads; picker for model.json + .safetensors (drop works anywhere on the page).

import { useRef } from 'react';
import { formatCount } from '../model/summary';
import { loadDefaultModel, loadModelFiles, loadModelUrl, modelDirUrl } from '../model/modelActions';
import { useWorkbench } from '../store';
import { setAllowUntrainedElements } from '../system/admit';

export function ModelPanel() {
  const model = useWorkbench((s) => s.model);
  const phase = useWorkbench((s) => s.modelPhase);
  const progress = useWorkbench((s) => s.modelProgress);
  const message = useWorkbench((s) => s.modelMessage);
  const input = useRef<HTMLInputElement>(null);
  const shipped = useWorkbench((s) => s.shippedModels);
  const allowUntrained = useWorkbench((s) => s.allowUntrainedElements);
  const auto = useWorkbench((s) => s.modelAuto);

  return (
    <section className="panel" data-testid="model-panel">
      <h2>Model</h2>
      {phase === 'loading' && (
        <div className="progress" data-testid="model-progress">
          <div style={{ width: `${Math.round(progress * 100)}%` }} />
        </div>
      )}
      {model ? (
        <div className="model-card" data-testid="model-card">
          <p className="model-name">
            <strong data-testid="model-name">{model.name}</strong> <span className="muted">v{model.version}</span>
          </p>
          {auto && <p className="small" data-testid="model-auto">Switched automatically: {auto}. Opening a structure the default model runs switches back; pick a model below to keep one.</p>}
          <p className="muted">{model.description}</p>
          {model.accuracy && <p data-testid="model-accuracy">{model.accuracy}</p>}
          <table className="kv">
            <tbody>
              <tr><td>parameters</td><td data-testid="model-params">{formatCount(model.parameterCount)} ({model.parameterCount.toLocaleString('en-US')})</td></tr>
              <tr><td>cutoff</td><td data-testid="model-cutoff">{model.cutoff} Å, k = {model.knnK}</td></tr>
              <tr><td>size</td><td>{model.layers} layers × {model.hidden} hidden, {model.heads} heads</td></tr>
              <tr><td>flags</td><td data-testid="model-flags">{model.flags.join(', ')}</td></tr>
              <tr><td>elements</td><td data-testid="model-elements">{model.elements ? model.elements.join(', ') : 'unknown'}</td></tr>
            </tbody>
          </table>
          {model.warnings.length > 0 && (
            <ul className="warning-text" data-testid="model-warnings">{model.warnings.map((w) => <li key={w}>{w}</li>)}</ul>
          )}
          <label className="check-row">
            <input type="checkbox" data-testid="allow-untrained" checked={allowUntrained} onChange={(e) => setAllowUntrainedElements(e.target.checked)} />
            <span>allow elements this model was not trained on</span>
          </label>
          <p className="muted small">
            Runs structures with other elements anyway: the forces on those atoms are extrapolation and meaningless. For
            testing a set-up, never for results.
          </p>
          {(model.cardText || model.card.length > 0) && (
            <details data-testid="model-card-details">
              <summary>model card</summary>
              {model.cardText && <p className="card-text">{model.cardText}</p>}
              <ul className="card-lines">{model.card.map((l) => <li key={l}>{l}</li>)}</ul>
            </details>
          )}
          <p className="muted small">from {model.source}</p>
        </div>
      ) : (
        phase !== 'loading' && <p className="muted">No model loaded.</p>
      )}
      {message && <p className={phase === 'error' || phase === 'missing' ? 'error-text' : 'muted'} data-testid="model-message">{message}</p>}
      {shipped.length > 1 && (
        <label className="field">
          <span>shipped</span>
          <select value="" data-testid="shipped-select" onChange={(e) => e.target.value && void loadModelUrl(modelDirUrl(e.target.value))}>
            <option value="">switch model…</option>
            {shipped.map((m) => <option key={m.dir} value={m.dir} title={m.description}>{m.name}</option>)}
          </select>
        </label>
      )}
      <div className="buttons">
        <button onClick={() => input.current?.click()}>Load model files…</button>
        <button onClick={() => void loadDefaultModel()}>Default model</button>
      </div>
      <input
        ref={input}
        type="file"
        multiple
        accept=".json,.safetensors,.md"
        hidden
        data-testid="model-input"
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          e.target.value = '';
          if (files.length) void loadModelFiles(files);
        }}
      />
      <p className="muted small">Pick or drop model.json together with its .safetensors file (and card.md / metrics.json if you have them).</p>
    </section>
  );
}
