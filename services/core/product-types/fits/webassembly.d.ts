// The part of the WebAssembly JS API the FITS sum uses. Node has the API; TypeScript declares it only
// in its DOM and web-worker libraries, which would bring browser globals into server code.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}
