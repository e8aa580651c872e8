// A microphone's level shown on a <meter> (the device check in room.js, the
// network test in nettest.js).
//
// Ten updates a second are enough for the eye. A redraw at every animation
// frame (60 a second) kept the page busy all the time the check was shown -
// a waiting client's phone draining its battery, a tenth of a core in
// headless Chromium - and the meter is only written when what it shows
// changes.
const UPDATES_PER_SECOND = 10;
const STEPS = 50;

// Starts showing `track`'s level on `meter`; returns the function that stops.
export function showLevel(track, meter) {
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  context.createMediaStreamSource(new MediaStream([track])).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) sum += s * s;
    // RMS of speech sits around 0.05-0.3: scaled to fill the meter.
    const level = Math.min(1, Math.sqrt(sum / samples.length) * 4);
    const shown = Math.round(level * STEPS) / STEPS;
    if (meter.value !== shown) meter.value = shown;
  }, 1000 / UPDATES_PER_SECOND);
  context.resume();
  return () => {
    clearInterval(timer);
    context.close();
  };
}
