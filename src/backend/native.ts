/**
 * The native TensorFlow backends (tfjs-node, tfjs-node-gpu). Loading throws an
 * Error whose message says why the backend is unavailable.
 */
export type NativeKind = "native" | "native-gpu";

export async function loadNative(kind: NativeKind): Promise<void> {
  const pkg = kind === "native-gpu" ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
  try {
    await import(pkg);
  } catch (err) {
    throw new Error(`${pkg} could not be loaded: ${(err as Error).message.split("\n")[0]}`);
  }
}
