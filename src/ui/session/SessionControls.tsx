// "Copy link" in the top bar: the session as a URL (copied to the clipboard and shown, to copy by hand where the
// browser refuses the clipboard); and, after opening a link that used the user's own files, which files it needs.

import { useState } from 'react';
import { handleFiles } from '../actions';
import { useOrigin } from './origin';
import { sessionLink } from './restore';

export function SessionControls() {
  const [link, setLink] = useState<string | null>(null);
  const [copied, setCopied] = useState<string>('');
  const wanted = useOrigin((s) => s.wanted);
  const names = [...wanted.model, ...(wanted.system ? [wanted.system] : [])];

  const copy = async () => {
    const url = sessionLink();
    history.replaceState(null, '', url);
    setLink(url);
    try {
      await navigator.clipboard.writeText(url);
      setCopied('copied');
    } catch {
      setCopied('select and copy');
    }
  };

  return (
    <span className="session">
      <button data-testid="copy-link" onClick={() => void copy()} title="a link that reopens this model, system and every setting (your own files are named, never uploaded)">copy link</button>
      {link && <input className="session-link" data-testid="session-link" readOnly value={link} size={40} onFocus={(e) => e.target.select()} />}
      {link && <span className="muted" data-testid="copy-state">{copied}</span>}
      {names.length > 0 && (
        <label className="session-wanted" data-testid="session-wanted" role="alert">
          this link needs your files: {names.join(', ')}{' '}
          <input type="file" multiple onChange={(e) => e.target.files && void handleFiles(Array.from(e.target.files))} />
        </label>
      )}
    </span>
  );
}
