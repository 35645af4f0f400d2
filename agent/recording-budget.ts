// One bound on the recording bytes the whole agent holds (written and not yet stored), over every
// recorder: running sessions and ended ones still storing their last parts. Each recorder has its
// own bound too, but many short sessions opened and closed quickly would otherwise add up unbounded.

export class RecordingBudget {
  private heldBytes = 0;

  constructor(readonly maxBytes: number) {}

  get held(): number {
    return this.heldBytes;
  }

  get full(): boolean {
    return this.heldBytes > this.maxBytes;
  }

  hold(bytes: number): void {
    this.heldBytes += bytes;
  }

  release(bytes: number): void {
    this.heldBytes -= bytes;
  }
}
