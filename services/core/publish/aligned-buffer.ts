/** WebAssembly's page: the unit a memory grows by. */
const WASM_PAGE = 64 * 1024;

/**
 * A buffer whose first byte is page-aligned, as O_DIRECT writes need. Node offers no aligned
 * allocation, but a WebAssembly memory is mapped on its own, so it starts on a page boundary.
 */
export function allocateAligned(bytes: number): Buffer {
  const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE));
  return Buffer.from(new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer, 0, bytes);
}
