/** A backup, verification or restore step that failed; the message is what the operator reads on stderr. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}
