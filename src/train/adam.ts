/**
 * Adam with L2 weight decay added to the gradient, exactly as
 * torch.optim.Adam(weight_decay=...) in the official code (not AdamW):
 *   g <- g + wd * p;  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
 *   p <- p - lr * (m / (1 - b1^k)) / (sqrt(v / (1 - b2^k)) + eps)
 * Its state is keyed by caller-chosen names so checkpoints survive a restart.
 */
import * as tf from "@tensorflow/tfjs-core";

export interface AdamOptions {
  lr: number;
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** Serialisable optimiser state: step count and both moments per parameter. */
export interface AdamState {
  step: number;
  moments: Map<string, { m: Float32Array; v: Float32Array }>;
}

export class Adam {
  private step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;

  constructor(private readonly options: AdamOptions) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
  }

  /** Number of updates applied so far. */
  get steps(): number {
    return this.step;
  }

  /** Update each named parameter with its gradient; gradients are not disposed. */
  apply(params: { name: string; variable: tf.Variable; grad: tf.Tensor }[]): void {
    this.step += 1;
    const { lr, weightDecay } = this.options;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const correction1 = 1 - Math.pow(b1, this.step);
    const correction2 = 1 - Math.pow(b2, this.step);

    for (const { name, variable, grad } of params) {
      const m = this.moment(this.m, name, variable);
      const v = this.moment(this.v, name, variable);
      tf.tidy(() => {
        const g = weightDecay === 0 ? grad : tf.add(grad, tf.mul(variable, weightDecay));
        const mNew = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
        const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
        const denom = tf.add(tf.sqrt(tf.div(vNew, correction2)), this.eps);
        const update = tf.div(tf.mul(mNew, lr / correction1), denom);
        m.assign(mNew);
        v.assign(vNew);
        variable.assign(tf.sub(variable, update));
      });
    }
  }

  /** Copy of the state, for checkpoints. */
  async state(): Promise<AdamState> {
    const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
    for (const [name, m] of this.m) {
      const v = this.v.get(name) as tf.Variable;
      moments.set(name, {
        m: (await m.data()) as Float32Array,
        v: (await v.data()) as Float32Array,
      });
    }
    return { step: this.step, moments };
  }

  /** Restore a state saved by state(); shapes come from the live parameters. */
  load(state: AdamState, shapes: Map<string, number[]>): void {
    this.dispose();
    this.step = state.step;
    for (const [name, { m, v }] of state.moments) {
      const shape = shapes.get(name);
      if (shape === undefined) throw new Error(`optimiser state names unknown parameter "${name}"`);
      // variables outlive tidy; the temporary tensors they copy do not
      this.m.set(name, tf.tidy(() => tf.variable(tf.tensor(m, shape), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.tensor(v, shape), false)));
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }

  private moment(store: Map<string, tf.Variable>, name: string, like: tf.Variable): tf.Variable {
    let t = store.get(name);
    if (t === undefined) {
      t = tf.tidy(() => tf.variable(tf.zerosLike(like), false));
      store.set(name, t);
    }
    return t;
  }
}
