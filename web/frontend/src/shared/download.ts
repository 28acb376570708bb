// Downloads of files the API serves as attachments (exports, printed papers). They need the bearer
// header, so each is fetched as a blob and saved through a temporary link with its server-given name.

import { api } from './api';

/** The file name of a Content-Disposition: its RFC 5987 `filename*` when present, else `filename`. */
export function dispositionName(header: string | null, fallback: string): string {
  if (!header) return fallback;
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1]);
    } catch {
      // a malformed encoding: fall through to the plain name
    }
  }
  const plain = /filename="([^"]+)"/i.exec(header);
  return plain?.[1] ?? fallback;
}

/** Fetches `path` with `query` and saves it as the server names it. */
export async function saveDownload(
  path: string,
  query: Record<string, string | number | boolean | null | undefined>,
  fallback: string,
): Promise<void> {
  const { blob, disposition } = await api.file(path, query);
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = dispositionName(disposition, fallback);
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
