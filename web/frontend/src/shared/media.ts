// Stored photos and documents for <img> and links. GET /api/v1/media/{sha} needs the bearer header,
// which an <img src> cannot send, so each file is fetched as a blob and shown through an object URL.
// A MediaUrls belongs to one view (a case): `release()` revokes its URLs when the view moves on.

import { api } from './api';

export class MediaUrls {
  private readonly pending = new Map<string, Promise<string>>();
  private readonly made = new Set<string>();
  private generation = 0;

  /** An object URL of the file (fetched once per view). */
  get(sha256: string): Promise<string> {
    const held = this.pending.get(sha256);
    if (held) return held;
    const generation = this.generation;
    const url = api.mediaBlob(sha256).then((blob) => {
      const made = URL.createObjectURL(blob);
      // Released while it loaded: not kept.
      if (generation !== this.generation) {
        URL.revokeObjectURL(made);
        throw new Error('released');
      }
      this.made.add(made);
      return made;
    });
    // A failed fetch is tried again next time.
    url.catch(() => {
      if (this.pending.get(sha256) === url) this.pending.delete(sha256);
    });
    this.pending.set(sha256, url);
    return url;
  }

  /** Revokes every URL made so far; the next `get` fetches again. */
  release(): void {
    this.generation++;
    for (const url of this.made) URL.revokeObjectURL(url);
    this.made.clear();
    this.pending.clear();
  }

  /** Shows the file in `img` (and as `link`'s target) once loaded; marks both when it cannot be loaded. */
  show(sha256: string, img: HTMLImageElement | null, link: HTMLAnchorElement | null): void {
    const generation = this.generation;
    void this.get(sha256)
      .then((url) => {
        if (img) img.src = url;
        if (link) link.href = url;
      })
      .catch(() => {
        if (generation !== this.generation) return;
        img?.classList.add('media-failed');
        link?.classList.add('media-failed');
      });
  }
}
