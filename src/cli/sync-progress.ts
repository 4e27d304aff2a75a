// What `caregate directory sync` shows while it runs: with --json, one JSON line per progress step
// on stdout (`{"type":"progress",…}`), the summary following as the last line; on a terminal, a
// progress bar on stderr redrawn in place and cleared before the summary; otherwise nothing, so
// a scheduler's log holds only the summary.
import type { SyncProgress } from '../directory/index.ts';
import type { Terminal } from './terminal.ts';

const REDRAW_MS = 100;
const BAR = 30;

export interface SyncProgressReporter {
  onProgress?(progress: SyncProgress): void;
  /** Clears the bar (before the summary is printed). */
  end(): void;
}

export function syncProgressReporter(terminal: Terminal, json: boolean): SyncProgressReporter {
  if (json) {
    let last = '';
    return {
      onProgress(progress) {
        const line = JSON.stringify({ type: 'progress', phase: progress.phase, groups: progress.groups, entries: progress.entries, pages: progress.pages, applied: progress.applied, total: progress.total });
        // The engine reports each page and batch; a step that moved nothing is not repeated.
        if (line === last) return;
        last = line;
        terminal.out(`${line}\n`);
      },
      end() {},
    };
  }
  if (!terminal.errIsTTY) return { end() {} };
  let drawn = false;
  let lastDraw = 0;
  let lastPhase = '';
  return {
    onProgress(progress) {
      const now = Date.now();
      // A new phase, and the last batch, always show; in between at most ten redraws a second.
      const final = progress.phase === 'applying' && progress.applied === progress.total;
      if (progress.phase === lastPhase && !final && now - lastDraw < REDRAW_MS) return;
      lastPhase = progress.phase;
      lastDraw = now;
      drawn = true;
      terminal.err(`\r\x1b[K${describe(progress)}`);
    },
    end() {
      if (drawn) terminal.err('\r\x1b[K');
    },
  };
}

function describe(p: SyncProgress): string {
  const n = (value: number) => value.toLocaleString('en-US');
  if (p.phase === 'reading') return `Reading the directory… ${n(p.entries)} people, ${n(p.groups)} groups (${n(p.pages)} pages)`;
  const share = p.total ? p.applied / p.total : 1;
  const filled = Math.round(share * BAR);
  return `Applying changes [${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${n(p.applied)}/${n(p.total)} (${Math.round(share * 100)} %)`;
}
