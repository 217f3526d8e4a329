import fs from 'node:fs';
import { BackupError } from '../backup/backup-error';
import { composeRestoreHooks, composeRunner } from '../backup/compose-hooks';
import { createBackup, type BackupResult } from '../backup/create-backup';
import { readSchemaLevel } from '../backup/database-admin';
import type { PgTarget } from '../backup/pg-target';
import { restoreBackup } from '../backup/restore-backup';
import { runCommand } from '../backup/run-command';

type ComposeTarget = Extract<PgTarget, { mode: 'compose' }>;

export interface UpgradeDeps {
  target: ComposeTarget;
  ferryVersion: string;
  log: (msg: string) => void;
}

export interface UpgradeOptions {
  /** The Ferry image the stack runs (ferry:${FERRY_IMAGE_TAG}). */
  image: string;
  /** The tag the running image is kept under for a roll-back. */
  previousImage: string;
  /** build: `compose build` the Ferry image here; pull: `compose pull` every image from a registry. */
  source: 'build' | 'pull';
  /** Seconds `up -d --wait` waits for every service to report healthy. */
  waitTimeoutSeconds: number;
  /** deploy/preflight.sh, run first when it exists. */
  preflight: string;
  backupDir: string;
  compressLevel: number;
}

/** What an upgrade did, step by step, in the words the operator reads. */
export interface UpgradeReport {
  ok: boolean;
  steps: string[];
}

/**
 * Preflight, a verified backup (no backup, no upgrade), keep the running image as the previous one,
 * build or pull, migrate with the one-shot service, `up -d --wait`. On a failure: tag the previous
 * image back, restore the pre-upgrade backup if the schema moved, start the previous stack, and
 * report exactly which of these happened.
 */
export async function upgradeStack(deps: UpgradeDeps, opts: UpgradeOptions): Promise<UpgradeReport> {
  const { target, log } = deps;
  const compose = composeRunner(target);
  const docker = (...args: string[]) => runCommand({ cmd: target.compose[0]!, args }, { env: target.env });
  const steps: string[] = [];
  const step = (msg: string) => {
    steps.push(msg);
    log(msg);
  };
  const fail = (msg: string): UpgradeReport => {
    steps.push(msg);
    log(msg);
    return { ok: false, steps };
  };

  if (fs.existsSync(opts.preflight)) {
    try {
      await runCommand({ cmd: opts.preflight, args: [] }, { env: target.env });
      step('preflight passed');
    } catch (err) {
      return fail(`preflight failed, nothing was changed: ${(err as Error).message}`);
    }
  } else {
    step(`no ${opts.preflight}: preflight skipped`);
  }

  let backup: BackupResult;
  try {
    backup = await createBackup({ target, ferryVersion: deps.ferryVersion, log }, { dir: opts.backupDir, prefix: 'ferry-pre-upgrade', compressLevel: opts.compressLevel });
    step(`pre-upgrade backup ${backup.paths.dump} verified (schema ${backup.metadata.schema_level ?? 'empty'})`);
  } catch (err) {
    return fail(`refusing to upgrade: the pre-upgrade backup failed, nothing was changed: ${(err as Error).message}`);
  }

  let hadPrevious = true;
  try {
    await docker('image', 'inspect', opts.image);
  } catch {
    hadPrevious = false;
  }
  if (hadPrevious) {
    try {
      await docker('tag', opts.image, opts.previousImage);
      step(`running image ${opts.image} kept as ${opts.previousImage}`);
    } catch (err) {
      return fail(`refusing to upgrade: cannot keep the running image as ${opts.previousImage}, nothing was changed: ${(err as Error).message}`);
    }
  } else {
    step(`no image ${opts.image} yet (first install): there is no previous image to roll back to`);
  }

  let phase = 'build';
  try {
    if (opts.source === 'pull') await compose('pull');
    else await compose('build', '--pull');
    step(`new images ${opts.source === 'pull' ? 'pulled' : 'built'}`);
    phase = 'migrate';
    await compose('run', '--rm', 'migrate');
    step('migrations applied (one-shot migrate service)');
    phase = 'start';
    await compose('up', '-d', '--wait', '--wait-timeout', String(opts.waitTimeoutSeconds));
    step('every service is up and healthy: upgrade complete');
    return { ok: true, steps };
  } catch (err) {
    steps.push(`FAILED at ${phase}: ${(err as Error).message}`);
    log(`upgrade failed at ${phase}: ${(err as Error).message}`);
  }

  return rollBack(deps, opts, { compose, docker, backup, hadPrevious, phase, steps, step });
}

async function rollBack(
  deps: UpgradeDeps,
  opts: UpgradeOptions,
  s: {
    compose: (...args: string[]) => Promise<string>;
    docker: (...args: string[]) => Promise<string>;
    backup: BackupResult;
    hadPrevious: boolean;
    phase: string;
    steps: string[];
    step: (msg: string) => void;
  },
): Promise<UpgradeReport> {
  const { target, log } = deps;
  const problems: string[] = [];
  if (s.hadPrevious) {
    try {
      await s.docker('tag', opts.previousImage, opts.image);
      s.step(`previous image put back: ${opts.previousImage} tagged as ${opts.image} again`);
    } catch (err) {
      problems.push(`could not put the previous image back (${(err as Error).message}): run docker tag ${opts.previousImage} ${opts.image}`);
    }
  }

  if (s.phase !== 'build' && !s.hadPrevious) {
    // Restoring would be undone at once: the restore's migrate step can only run the new image.
    s.step(`no previous version to return to: the database was left as the failed upgrade left it; the pre-upgrade backup is ${s.backup.paths.dump}`);
  } else if (s.phase !== 'build') {
    const before = s.backup.metadata.schema_level;
    let now: string | null | undefined;
    try {
      now = await readSchemaLevel(target);
    } catch (err) {
      problems.push(`could not read the schema level (${(err as Error).message})`);
    }
    if (now !== undefined && now === before) {
      s.step(`no migration had been applied (schema still ${before ?? 'empty'}): the database was left as it was`);
    } else {
      s.step(`schema moved from ${before ?? 'empty'} to ${now ?? 'unknown'}: restoring the pre-upgrade backup ${s.backup.paths.dump}`);
      try {
        const hooks = composeRestoreHooks(target, async () => true, log);
        await restoreBackup(
          { target, hooks, ferryVersion: deps.ferryVersion, log },
          { dump: s.backup.paths.dump, safetyDir: opts.backupDir, compressLevel: opts.compressLevel, restoreCommand: 'deploy/restore.sh' },
        );
        s.step(`pre-upgrade backup restored: registry back at schema ${before ?? 'empty'}`);
      } catch (err) {
        problems.push(err instanceof BackupError ? err.message : String(err));
      }
    }
  }

  if (s.hadPrevious) {
    try {
      await s.compose('up', '-d', '--wait', '--wait-timeout', String(opts.waitTimeoutSeconds));
      s.step('previous version started and healthy');
    } catch (err) {
      problems.push(`the previous version did not come up healthy either: ${(err as Error).message}`);
    }
  }
  for (const p of problems) s.steps.push(`NEEDS ATTENTION: ${p}`);
  s.steps.push(`upgrade failed at ${s.phase}; ${problems.length ? 'roll-back incomplete, see above' : 'rolled back'}`);
  return { ok: false, steps: s.steps };
}
