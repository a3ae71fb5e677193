// Model panel: the loaded model's identity, size, flags, cutoff and card; a progress bar while the
// default downloads; picker for model.json + .safetensors (drop works anywhere on the page).

import { useRef } from 'react';
import { formatCount } from '../model/summary';
import { loadDefaultModel, loadModelFiles } from '../model/modelActions';
import { useWorkbench } from '../store';

export function ModelPanel() {
  const model = useWorkbench((s) => s.model);
  const phase = useWorkbench((s) => s.modelPhase);
  const progress = useWorkbench((s) => s.modelProgress);
  const message = useWorkbench((s) => s.modelMessage);
  const input = useRef<HTMLInputElement>(null);

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
          <p className="muted">{model.description}</p>
          <table className="kv">
            <tbody>
              <tr><td>parameters</td><td data-testid="model-params">{formatCount(model.parameterCount)} ({model.parameterCount.toLocaleString('en-US')})</td></tr>
              <tr><td>cutoff</td><td data-testid="model-cutoff">{model.cutoff} Å, k = {model.knnK}</td></tr>
              <tr><td>size</td><td>{model.layers} layers × {model.hidden} hidden, {model.heads} heads</td></tr>
              <tr><td>flags</td><td data-testid="model-flags">{model.flags.join(', ')}</td></tr>
            </tbody>
          </table>
          {model.card.length > 0 && (
            <details>
              <summary>model card</summary>
              <ul className="card-lines">{model.card.map((l) => <li key={l}>{l}</li>)}</ul>
            </details>
          )}
          <p className="muted small">from {model.source}</p>
        </div>
      ) : (
        phase !== 'loading' && <p className="muted">No model loaded.</p>
      )}
      {message && <p className={phase === 'error' || phase === 'missing' ? 'error-text' : 'muted'} data-testid="model-message">{message}</p>}
      <div className="buttons">
        <button onClick={() => input.current?.click()}>Load model files…</button>
        <button onClick={() => void loadDefaultModel()}>Default model</button>
      </div>
      <input
        ref={input}
        type="file"
        multiple
        accept=".json,.safetensors"
        hidden
        data-testid="model-input"
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          e.target.value = '';
          if (files.length) void loadModelFiles(files);
        }}
      />
      <p className="muted small">Pick or drop model.json together with its .safetensors file.</p>
    </section>
  );
}
