// mixdown's recorder: captures the input between two context frames, sample-exactly.
// The main thread sends {start, stop} (frames of the AudioContext); the processor posts
// {frame, samples} chunks (channel 0 and 1 when there are two) and {done: true} at `stop`.
class MixdownRecorder extends AudioWorkletProcessor {
  constructor() {
    super();
    this.start = Infinity;
    this.stop = Infinity;
    this.done = false;
    this.port.onmessage = (event) => {
      if (typeof event.data.start === "number") this.start = event.data.start;
      if (typeof event.data.stop === "number") this.stop = event.data.stop;
    };
  }

  process(inputs) {
    if (this.done) return false;
    const input = inputs[0];
    const n = input.length && input[0] ? input[0].length : 128;
    const first = currentFrame;
    const last = first + n;
    if (last > this.start && first < this.stop) {
      const a = Math.max(this.start, first) - first;
      const b = Math.min(this.stop, last) - first;
      const channels = [];
      for (let c = 0; c < Math.min(2, Math.max(1, input.length)); c++) {
        const data = input[c] ? input[c].slice(a, b) : new Float32Array(b - a);
        channels.push(data);
      }
      this.port.postMessage({ frame: first + a, channels });
    }
    if (last >= this.stop) {
      this.done = true;
      this.port.postMessage({ done: true });
      return false;
    }
    return true;
  }
}

registerProcessor("mixdown-recorder", MixdownRecorder);
