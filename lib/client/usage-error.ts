// A mistake the user can fix (a flag, a missing login, a file): tsh and tctl print its message as
// one line and exit 1. Anything that is not a KubeportError is a bug (see run-command.ts).
import { KubeportError } from '../core/errors.js';

export class UsageError extends KubeportError {
  constructor(message: string) {
    super('bad_request', message);
    this.name = 'UsageError';
  }
}
