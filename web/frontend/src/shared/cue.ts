// A noticeable cue for something new: a short beep through WebAudio and a vibration.
// Browsers allow audio only after the user has touched the page once, so the context is
// created (or resumed) on the first pointer or key event.

let context: AudioContext | null = null;

function unlock(): void {
  try {
    context ??= new AudioContext();
    void context.resume();
  } catch {
    context = null;
  }
}

for (const type of ['pointerdown', 'keydown'] as const) {
  window.addEventListener(type, unlock, { passive: true });
}

/** Counted for tests (window.__app.cues). */
export let cues = 0;

export function cue(): void {
  cues++;
  try {
    navigator.vibrate?.([200, 100, 200]);
  } catch {
    // not a phone
  }
  if (!context || context.state !== 'running') return;
  const now = context.currentTime;
  for (const [start, freq] of [
    [0, 880],
    [0.25, 1175],
  ] as const) {
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.type = 'sine';
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, now + start);
    gain.gain.exponentialRampToValueAtTime(0.3, now + start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + start + 0.2);
    osc.connect(gain).connect(context.destination);
    osc.start(now + start);
    osc.stop(now + start + 0.22);
  }
}
