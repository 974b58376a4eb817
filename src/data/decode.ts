/**
 * Decoding of one encoded image file into size x size RGB bytes.
 *
 * Two decoders: jpeg-js for images already at the target size (fast for
 * tiny CIFAR-10 files, where a native call costs more than the decode), and
 * sharp (libvips) for everything that must be resized. They differ by a
 * pixel value or so on the same file, which is why a dataset always uses one
 * of them and the cache key names it.
 */
import jpeg from "jpeg-js";
import sharp from "sharp";

/** Which decoder a dataset uses. */
export type DecoderName = "jpeg-js" | "sharp";

/** How to turn one file into pixels. */
export interface DecodeTarget {
  /** Side of the square output. */
  size: number;
  decoder: DecoderName;
}

/**
 * Decode `bytes` (the content of `file`) to [size, size, 3] RGB. Grayscale
 * and CMYK images become RGB. With jpeg-js the image must already be
 * size x size; with sharp the shorter side is resized to `size` and the
 * centre is cropped.
 */
export async function decodeImage(
  bytes: Uint8Array,
  file: string,
  target: DecodeTarget,
): Promise<Uint8Array> {
  const kind = sniffFormat(bytes);
  if (kind === "unknown") {
    const head = Buffer.from(bytes.subarray(0, 4)).toString("hex");
    throw new Error(
      `${file} is not a JPEG or PNG image (it starts with bytes ${head || "nothing"}); ` +
        "remove or replace the file, or fetch the dataset again",
    );
  }
  try {
    if (target.decoder === "jpeg-js" && kind === "jpeg") {
      return decodeExact(bytes, file, target.size);
    }
    return await decodeResized(bytes, target.size);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (reason.startsWith(file)) throw err;
    throw new Error(
      `${file} could not be decoded (${reason}); the file is damaged: ` +
        "remove or replace it, or fetch the dataset again",
    );
  }
}

function sniffFormat(bytes: Uint8Array): "jpeg" | "png" | "unknown" {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.every((b, i) => bytes[i] === b)) return "png";
  return "unknown";
}

function decodeExact(bytes: Uint8Array, file: string, size: number): Uint8Array {
  // strict decoding so that a truncated file is an error, not grey pixels
  const image = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    tolerantDecoding: false,
  });
  if (image.width !== size || image.height !== size) {
    throw new Error(
      `${file} is ${image.width}x${image.height}, expected ${size}x${size}; ` +
        "the file does not belong to this dataset: remove it",
    );
  }
  return image.data;
}

async function decodeResized(bytes: Uint8Array, size: number): Promise<Uint8Array> {
  const { data, info } = await sharp(bytes, { failOn: "error" })
    .removeAlpha()
    .toColourspace("srgb")
    .resize(size, size, { fit: "cover", position: "centre" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== size * size * 3) {
    throw new Error(
      `decoded to ${info.channels} channels of ${info.width}x${info.height}`,
    );
  }
  return data;
}
