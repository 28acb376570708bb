// The command centre's download buttons: the case list and the metrics as xlsx or csv with what is
// on screen, and a case's printed papers (处置单; 督办单 once supervised; 决定书 once decided).

import { describeError, type LogEntry } from '../../shared/api';
import { button, el, toast } from '../../shared/dom';
import { saveDownload } from '../../shared/download';
import { tc } from './texts';

type Query = Record<string, string | number | boolean | null | undefined>;

async function save(path: string, query: Query, fallback: string, target: HTMLButtonElement): Promise<void> {
  target.disabled = true;
  try {
    await saveDownload(path, query, fallback);
  } catch (error) {
    toast(`${tc('downloadFailed')}: ${describeError(error)}`, 'error');
  } finally {
    target.disabled = false;
  }
}

/** Two buttons exporting `path` as xlsx and csv with the query `current()` gives at the click. */
export function exportButtons(path: string, current: () => Query, name: string): HTMLElement {
  const box = el('span', 'export-buttons');
  for (const [format, text] of [
    ['xlsx', tc('exportXlsx')],
    ['csv', tc('exportCsv')],
  ] as const) {
    const b = button(`link export-${format}`, text, () => void save(path, { ...current(), format }, `${name}.${format}`, b));
    b.type = 'button';
    box.append(b);
  }
  return box;
}

/** The papers a case can print now, as buttons. */
export function paperButtons(caseId: string, log: LogEntry[]): HTMLElement {
  const box = el('section', 'papers');
  box.append(el('h3', undefined, tc('papers')));
  const base = `/api/v1/cases/${encodeURIComponent(caseId)}/documents`;
  const papers: Array<[string, string]> = [['handling-sheet', tc('handlingSheet')]];
  if (log.some((e) => e.kind === 'supervised')) papers.push(['supervision', tc('supervisionSheet')]);
  if (log.some((e) => e.kind === 'stage' && e.payload['decision'])) papers.push(['decision', tc('decisionDocument')]);
  const row = el('div', 'row');
  for (const [paper, text] of papers) {
    const b = button(`paper-${paper}`, text, () => void save(`${base}/${paper}.pdf`, {}, `${text}.pdf`, b));
    row.append(b);
  }
  box.append(row);
  return box;
}
