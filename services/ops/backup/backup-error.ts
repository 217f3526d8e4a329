/** A backup, verification or restore step that failed; the message is what the operator reads on stderr. */
export class BackupError extends Error {
  /** True when the failure came after the registry database had been dropped or replaced. */
  readonly databaseChanged: boolean;

  constructor(message: string, opts: { databaseChanged?: boolean } = {}) {
    super(message);
    this.name = 'BackupError';
    this.databaseChanged = opts.databaseChanged ?? false;
  }
}
