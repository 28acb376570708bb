// What a case's log says about its photos and documents: the reporters' (each report's `source.media`: the
// opening report's on the `registered` entry, each attached report's on its `attached` entry, or its raw
// event's `media`) and the evidence of the verify, submit and stage entries.

import type { LogEntry } from '../../shared/api';

export interface MediaItem {
  sha256: string;
  kind: 'photo' | 'video' | 'document';
  caption: string;
}

/** One report on the case, with its photos. */
export interface ReportMedia {
  eventId: string;
  /** The report that opened the case (else an attached one). */
  first: boolean;
  eventType: string;
  reporter: string;
  reportedAt: string;
  description: string;
  /** Split off the case again since. */
  split: boolean;
  media: MediaItem[];
}

/** Evidence of one log entry. */
export interface EntryEvidence {
  seq: number;
  kind: string;
  at: string;
  stage: string | null;
  media: MediaItem[];
}

type Json = Record<string, unknown>;

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const object = (value: unknown): Json => (typeof value === 'object' && value !== null ? (value as Json) : {});

function kindOf(contentType: string): MediaItem['kind'] {
  if (contentType === 'application/pdf') return 'document';
  if (contentType.startsWith('video/')) return 'video';
  return 'photo';
}

function mediaRefs(value: unknown): MediaItem[] {
  if (!Array.isArray(value)) return [];
  return value
    .map(object)
    .filter((m) => typeof m['sha256'] === 'string')
    .map((m) => ({ sha256: text(m['sha256']), kind: kindOf(text(m['content_type'])), caption: '' }));
}

/** The reports on the case, in the order they came, each with its media. */
export function reportsOf(log: readonly LogEntry[]): ReportMedia[] {
  const reports = new Map<string, ReportMedia>();
  for (const entry of log) {
    if (entry.kind === 'registered' || entry.kind === 'attached') {
      const source = object(entry.payload['source']);
      const raw = object(entry.payload['event']);
      const eventId = text(source['event_id']) || text(raw['event_id']);
      if (!eventId) continue;
      const fromSource = mediaRefs(source['media']);
      const reporter = object(raw['reporter']);
      reports.set(eventId, {
        eventId,
        first: entry.kind === 'registered',
        eventType: text(source['event_type']) || text(raw['type']),
        reporter: text(reporter['name']) || text(source['reporter_id']) || text(reporter['id']),
        reportedAt: text(source['reported_at']) || text(raw['reported_at']) || entry.at,
        description: text(source['description']) || text(raw['description']),
        split: false,
        media: fromSource.length ? fromSource : mediaRefs(raw['media']),
      });
    } else if (entry.kind === 'split') {
      const held = reports.get(text(entry.payload['event_id']));
      if (held) held.split = true;
    }
  }
  return [...reports.values()];
}

/** The evidence of the verify, submit and stage entries, in log order. */
export function evidenceOf(log: readonly LogEntry[]): EntryEvidence[] {
  const found: EntryEvidence[] = [];
  for (const entry of log) {
    const evidence = entry.payload['evidence'];
    if (!Array.isArray(evidence) || evidence.length === 0) continue;
    const media = evidence
      .map(object)
      .filter((e) => typeof e['sha256'] === 'string')
      .map((e): MediaItem => {
        const kind = text(e['kind']);
        return {
          sha256: text(e['sha256']),
          kind: kind === 'document' ? 'document' : kind === 'video' ? 'video' : 'photo',
          caption: text(e['caption']),
        };
      });
    if (media.length) {
      const stage = text(entry.payload['stage']) || null;
      found.push({ seq: entry.seq, kind: entry.kind, at: entry.at, stage, media });
    }
  }
  return found;
}
