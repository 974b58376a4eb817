/** Backends in order of preference. */
export type BackendName = "native-gpu" | "native" | "wasm" | "cpu";

/** Which backend runs, and why each preferred one does not. */
export interface BackendReport {
  name: BackendName;
  /** Worker threads used by the backend's kernels (1 when single-threaded). */
  threads: number;
  /** Why each backend ahead of `name` was not used (backend -> reason). */
  skipped: Partial<Record<BackendName, string>>;
  /** How the choice was made: "auto", or "forced by DCL_BACKEND" / "forced by --backend". */
  selection: string;
}
