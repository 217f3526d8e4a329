import fs from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { UnavailableError, ValidationError } from '../errors';
import type { ProductKind } from '../repositories/product.types';
import { mapLimit } from './map-limit';

/** Linux limits: one name (NAME_MAX) and a whole path (PATH_MAX), in bytes. */
export const MAX_NAME_BYTES = 255;
export const MAX_PATH_BYTES = 4096;
/** Top-level names under the data roots that belong to Ferry itself (temp area, mount marker). */
const RESERVED_PREFIX = '.ferry-';
const LSTAT_IN_FLIGHT = 16;
// Every C0 control character and DEL; NUL is checked first for its own message.
// eslint-disable-next-line no-control-regex
const CONTROL_CHAR = /[\u0001-\u001f\u007f]/;

/** A staged source, resolved and measured. */
export interface StagedSource {
  /** Path relative to the real STAGE_ROOT, '/'-separated, symlinks resolved; also the destination. */
  relativePath: string;
  /** Absolute real path of the source. */
  absolutePath: string;
  kind: ProductKind;
  sizeBytes: number;
  fileCount: number;
}

function refuse(code: string, message: string, status = 400): never {
  throw new ValidationError(code, message, status);
}

/** Refuses names the file system or later tools would mangle: NUL, control characters, over-long parts. */
export function checkStagePathSyntax(input: string): void {
  if (input.length === 0) refuse('invalid_stage_path', 'stage_path is empty: give a path relative to STAGE_ROOT or an absolute path inside it');
  if (input.includes('\0')) refuse('invalid_stage_path', 'stage_path contains a NUL byte: remove it');
  if (CONTROL_CHAR.test(input)) refuse('invalid_stage_path', 'stage_path contains a control character (tab, newline, …): rename the source');
  if (Buffer.byteLength(input, 'utf8') > MAX_PATH_BYTES) {
    refuse('invalid_stage_path', `stage_path is longer than ${MAX_PATH_BYTES} bytes: shorten it`);
  }
  for (const part of input.split('/')) {
    if (Buffer.byteLength(part, 'utf8') > MAX_NAME_BYTES) {
      refuse('invalid_stage_path', `a name in stage_path is longer than ${MAX_NAME_BYTES} bytes: shorten "${part.slice(0, 40)}…"`);
    }
  }
}

/** True when child is root itself or lies below it (both absolute and normalised). */
function isWithin(root: string, child: string): boolean {
  const rel = path.relative(root, child);
  return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
}

/** Sums sizes and counts regular files below dir; refuses symlinks, devices, sockets and FIFOs inside it. */
async function measureDirectory(dir: string, rel: string): Promise<{ sizeBytes: number; fileCount: number }> {
  let sizeBytes = 0;
  let fileCount = 0;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop() as string;
    const files: string[] = [];
    for (const entry of await fs.readdir(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) {
        pending.push(full);
      } else if (entry.isFile()) {
        files.push(full);
      } else {
        const inner = path.relative(dir, full);
        refuse('source_not_regular', `${rel}/${inner} is not a regular file or directory (symlink, device, socket or FIFO): remove it from the product`, 422);
      }
    }
    // Several lstat calls in flight: one at a time, a product of thousands of files waits on as many thread-pool round trips.
    for (const st of await mapLimit(files, LSTAT_IN_FLIGHT, (f) => fs.lstat(f))) {
      sizeBytes += st.size;
      fileCount += 1;
    }
  }
  return { sizeBytes, fileCount };
}

function sourceError(err: unknown, input: string): never {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') refuse('source_missing', `stage_path ${input} does not exist under STAGE_ROOT: write the product first`, 422);
  if (code === 'EACCES' || code === 'EPERM') refuse('source_unreadable', `stage_path ${input} cannot be read by Ferry: fix its permissions`, 422);
  if (code === 'ELOOP') refuse('path_outside_stage_root', `stage_path ${input} is a symlink loop`, 422);
  if (code === 'ENAMETOOLONG') refuse('invalid_stage_path', `stage_path ${input} is too long`);
  throw err;
}

/**
 * Resolves a stage path (relative to STAGE_ROOT, or absolute) to a real source inside STAGE_ROOT,
 * after `..` and every symlink are resolved, and measures it. Throws ValidationError with a code
 * that says what to fix: invalid_stage_path, path_outside_stage_root, reserved_path,
 * source_missing, source_empty, source_not_regular, source_unreadable.
 */
export async function resolveStagePath(stageRoot: string, input: string): Promise<StagedSource> {
  checkStagePathSyntax(input);
  let realRoot: string;
  try {
    realRoot = await fs.realpath(stageRoot);
  } catch {
    throw new UnavailableError('stage_root_unavailable', 'STAGE_ROOT cannot be read on this server; try again later');
  }
  const candidate = path.isAbsolute(input) ? path.resolve(input) : path.resolve(stageRoot, input);
  // A lexical check first gives the clear answer for plain `..` escapes, before touching the disk.
  if (!isWithin(stageRoot, candidate) && !isWithin(realRoot, candidate)) {
    refuse('path_outside_stage_root', `stage_path ${input} is outside STAGE_ROOT: give a path inside the staging area`);
  }
  let real: string;
  try {
    real = await fs.realpath(candidate);
  } catch (err) {
    sourceError(err, input);
  }
  if (!isWithin(realRoot, real)) {
    refuse('path_outside_stage_root', `stage_path ${input} resolves (through a symlink) to a place outside STAGE_ROOT`);
  }
  const relativePath = path.relative(realRoot, real).split(path.sep).join('/');
  if (relativePath === '') refuse('invalid_stage_path', 'stage_path names STAGE_ROOT itself: name one file or directory inside it');
  if (relativePath.startsWith(RESERVED_PREFIX)) {
    refuse('reserved_path', `stage_path ${input} is inside a name reserved for Ferry (${RESERVED_PREFIX}*): move the product`);
  }
  checkStagePathSyntax(relativePath);

  let stats: Stats;
  try {
    stats = await fs.stat(real);
  } catch (err) {
    sourceError(err, input);
  }
  if (stats.isFile()) {
    if (stats.size === 0) refuse('source_empty', `stage_path ${input} is an empty file: write its contents first`, 422);
    return { relativePath, absolutePath: real, kind: 'file', sizeBytes: stats.size, fileCount: 1 };
  }
  if (stats.isDirectory()) {
    let measured: { sizeBytes: number; fileCount: number };
    try {
      measured = await measureDirectory(real, relativePath);
    } catch (err) {
      if (err instanceof ValidationError) throw err;
      sourceError(err, input);
    }
    if (measured.fileCount === 0) refuse('source_empty', `stage_path ${input} is a directory without any file: write its contents first`, 422);
    return { relativePath, absolutePath: real, kind: 'directory', ...measured };
  }
  refuse('source_not_regular', `stage_path ${input} is not a regular file or directory (device, socket or FIFO)`, 422);
}
