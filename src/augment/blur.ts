/**
 * Gaussian blur of a float RGB view with a small odd kernel and reflect
 * padding (the edge pixel is not repeated), as torchvision's gaussian_blur
 * and OpenCV's default border do.
 */

/** Normalised 1-D Gaussian weights at offsets -(k-1)/2 .. (k-1)/2. */
export function gaussianKernel1d(
  size: number,
  sigma: number,
  into?: Float64Array,
): Float64Array {
  const kernel = into ?? new Float64Array(size);
  const half = (size - 1) / 2;
  let total = 0;
  for (let i = 0; i < size; i++) {
    const x = (i - half) / sigma;
    kernel[i] = Math.exp(-0.5 * x * x);
    total += kernel[i];
  }
  for (let i = 0; i < size; i++) kernel[i] /= total;
  return kernel;
}

/** Index `i` reflected into [0, n) without repeating the edge sample. */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = i % period;
  if (j < 0) j += period;
  return j < n ? j : period - j;
}

/** Per side length and kernel size, the reflected source index of every tap. */
const tapTables = new Map<string, Int32Array>();

/** [n, k] source indices of tap t for output i, reflected at the edges. */
function tapTable(n: number, k: number): Int32Array {
  const key = `${n}:${k}`;
  let table = tapTables.get(key);
  if (table === undefined) {
    table = new Int32Array(n * k);
    const half = (k - 1) / 2;
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < k; t++) table[i * k + t] = reflectIndex(i + t - half, n);
    }
    tapTables.set(key, table);
  }
  return table;
}

/**
 * Blurs a [height, width, 3] view in place with the separable kernel
 * (the 2-D Gaussian is the outer product of two 1-D ones); `scratch` must
 * hold height * width * 3 values.
 */
export function gaussianBlur(
  view: Float32Array,
  height: number,
  width: number,
  kernel: Float64Array,
  scratch: Float32Array,
): void {
  const k = kernel.length;
  if ((k - 1) / 2 >= Math.min(height, width)) {
    throw new Error(
      `gaussianBlur: kernel ${k} is too large for a ${height}x${width} view`,
    );
  }

  if (k === 3) {
    blur3(view, height, width, kernel[0], kernel[1], scratch);
    return;
  }

  // horizontal pass into scratch
  const columns = tapTable(width, k);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let t = 0; t < k; t++) {
        const src = row + columns[x * k + t] * 3;
        const w = kernel[t];
        r += w * view[src];
        g += w * view[src + 1];
        b += w * view[src + 2];
      }
      const o = row + x * 3;
      scratch[o] = r;
      scratch[o + 1] = g;
      scratch[o + 2] = b;
    }
  }

  // vertical pass back into the view, one whole source row per tap
  const rows = tapTable(height, k);
  const line = width * 3;
  for (let y = 0; y < height; y++) {
    const out = y * line;
    for (let i = 0; i < line; i++) view[out + i] = 0;
    for (let t = 0; t < k; t++) {
      const w = kernel[t];
      const src = rows[y * k + t] * line;
      for (let i = 0; i < line; i++) view[out + i] += w * scratch[src + i];
    }
  }
}

/**
 * The 3-tap case (the official kernel) written out: symmetric weights
 * `side`, `centre`, `side`; reflection maps index -1 to 1 and n to n - 2.
 */
function blur3(
  view: Float32Array,
  height: number,
  width: number,
  side: number,
  centre: number,
  scratch: Float32Array,
): void {
  const line = width * 3;

  // horizontal pass into scratch; edge pixels see their inner neighbour twice
  for (let y = 0; y < height; y++) {
    const row = y * line;
    const last = row + line - 3;
    for (let c = 0; c < 3; c++) {
      scratch[row + c] = centre * view[row + c] + 2 * side * view[row + 3 + c];
      scratch[last + c] = centre * view[last + c] + 2 * side * view[last - 3 + c];
    }
    for (let i = row + 3; i < last; i++) {
      scratch[i] = side * (view[i - 3] + view[i + 3]) + centre * view[i];
    }
  }

  // vertical pass back into the view
  for (let y = 0; y < height; y++) {
    const above = (y === 0 ? 1 : y - 1) * line;
    const below = (y === height - 1 ? height - 2 : y + 1) * line;
    const here = y * line;
    for (let i = 0; i < line; i++) {
      view[here + i] =
        side * (scratch[above + i] + scratch[below + i]) + centre * scratch[here + i];
    }
  }
}
