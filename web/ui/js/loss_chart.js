// Training and validation loss against the step, drawn on a canvas. The
// point counts are mirrored in data attributes for tests and tools.

const colors = { train: '#2f6feb', val: '#d9480f', grid: '#d0d7de', text: '#57606a' };

export class LossChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.clear();
  }

  clear() {
    this.train = [];
    this.val = [];
    this.maxStep = 0;
    this.draw();
  }

  /** Sets the x range to the job's planned steps. */
  setMaxStep(steps) {
    this.maxStep = Math.max(this.maxStep, steps || 0);
  }

  addTrain(step, loss) {
    if (Number.isFinite(loss)) this.train.push([step, loss]);
    this.draw();
  }

  addVal(step, loss) {
    if (Number.isFinite(loss)) this.val.push([step, loss]);
    this.draw();
  }

  draw() {
    const { canvas } = this;
    canvas.dataset.trainPoints = String(this.train.length);
    canvas.dataset.valPoints = String(this.val.length);
    const g = canvas.getContext('2d');
    const w = canvas.width;
    const h = canvas.height;
    const pad = { left: 48, right: 12, top: 12, bottom: 28 };
    g.clearRect(0, 0, w, h);
    const all = this.train.concat(this.val);
    const maxX = Math.max(this.maxStep, ...all.map((p) => p[0]), 1);
    let lo = Math.min(...all.map((p) => p[1]));
    let hi = Math.max(...all.map((p) => p[1]));
    if (!all.length) { lo = 0; hi = 1; }
    if (hi - lo < 1e-6) { hi += 0.5; lo -= 0.5; }
    const x = (step) => pad.left + (step / maxX) * (w - pad.left - pad.right);
    const y = (loss) => pad.top + (1 - (loss - lo) / (hi - lo)) * (h - pad.top - pad.bottom);

    g.strokeStyle = colors.grid;
    g.fillStyle = colors.text;
    g.font = '11px sans-serif';
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const loss = lo + ((hi - lo) * i) / 4;
      g.beginPath();
      g.moveTo(pad.left, y(loss));
      g.lineTo(w - pad.right, y(loss));
      g.stroke();
      g.fillText(loss.toFixed(2), 4, y(loss) + 4);
    }
    g.fillText('0', pad.left, h - 8);
    g.fillText(`step ${maxX}`, w - pad.right - 60, h - 8);

    const line = (points, color) => {
      if (!points.length) return;
      g.strokeStyle = color;
      g.fillStyle = color;
      g.lineWidth = 2;
      g.beginPath();
      points.forEach(([s, l], i) => (i ? g.lineTo(x(s), y(l)) : g.moveTo(x(s), y(l))));
      g.stroke();
      for (const [s, l] of points) g.fillRect(x(s) - 2, y(l) - 2, 4, 4);
    };
    line(this.train, colors.train);
    line(this.val, colors.val);
  }
}
