// The sessions the agent relays (exec, attach, port-forward), from their 101 to their end: each
// is read by a SessionTap fed copies of the relayed bytes, recorded when it is interactive, and
// told to the audit sink as Teleport's session events. Nothing here is on the relay's path: the
// relay passes each chunk on first, and nothing the tap, the recorder or the sink does can hold it.
import type { AuditSink, Clock, RecordingStore } from '../lib/core/ports.js';
import type { RequestScope } from './request-scope.js';
import { type SessionRequest, sessionEvent, sessionFields, sessionRequest } from './session-events.js';
import { RecordingBudget } from './recording-budget.js';
import { type RecorderOptions, SessionRecorder, defaultRecorderOptions } from './session-recorder.js';
import { type ExitStatus, type SessionActivity, SessionTap, tapProtocol } from './session-tap.js';

export interface SessionsDeps {
  audit?: AuditSink;
  recordings?: RecordingStore;
  clock: Clock;
  log: (message: string) => void;
  recorder?: Partial<RecorderOptions>;
  /** Time an ended session's recording has to be stored. */
  finishMs?: number;
  /** Recording bytes held (written and not yet stored) by all sessions together, ended ones still storing included. */
  maxHeldRecordingBytes?: number;
}

/** The agent-wide bound on held recording bytes unless the agent's limits say otherwise. */
export const DEFAULT_MAX_HELD_RECORDING_BYTES = 256 * 1024 * 1024;

/** Time the last parts of a recording get to be stored once its session ended. */
const FINISH_DEADLINE_MS = 30_000;

export class Sessions {
  private readonly open = new Set<OpenSession>();
  /** Recordings still being stored after their session ended. */
  private readonly finishing = new Set<Promise<void>>();
  /** Shared by every recorder, so sessions opened and closed quickly cannot add up unbounded. */
  readonly recordingBudget: RecordingBudget;

  constructor(private readonly deps: SessionsDeps) {
    this.recordingBudget = new RecordingBudget(deps.maxHeldRecordingBytes ?? DEFAULT_MAX_HELD_RECORDING_BYTES);
  }

  /**
   * A 101 went to the client: the session starts. `upgrade` and `subprotocol` are what the API
   * server granted (Upgrade, and Sec-WebSocket-Protocol or X-Stream-Protocol-Version).
   * Undefined for upgrades that are not sessions.
   */
  begin(scope: RequestScope, upgrade: string, subprotocol: string): OpenSession | undefined {
    const request = sessionRequest(scope);
    if (!request) return undefined;
    const session = new OpenSession(this.deps, this.recordingBudget, scope, request, upgrade, subprotocol, (ended) => {
      this.open.delete(session);
      const finishing = ended.catch((error: unknown) =>
        this.deps.log(`session ${scope.id}: its end was not recorded: ${error instanceof Error ? error.message : String(error)}`),
      );
      this.finishing.add(finishing);
      void finishing.finally(() => this.finishing.delete(finishing));
    });
    this.open.add(session);
    return session;
  }

  /** Ends every open session and waits (up to finishMs) for their recordings to be stored. */
  async close(): Promise<void> {
    for (const session of [...this.open]) session.end();
    await Promise.all([...this.finishing]);
  }
}

export class OpenSession implements SessionActivity {
  private readonly tap: SessionTap;
  private readonly recorder: SessionRecorder | undefined;
  private readonly startedAt: Date;
  private readonly fields: Record<string, unknown>;
  private exitStatus: ExitStatus | undefined;
  private startPending: NodeJS.Timeout | undefined;
  private size: string | undefined;
  private ended = false;

  constructor(
    private readonly deps: SessionsDeps,
    budget: RecordingBudget,
    private readonly scope: RequestScope,
    private readonly request: SessionRequest,
    upgrade: string,
    subprotocol: string,
    /** Called once at the end with the work still to do (reading the last frames, storing the recording). */
    private readonly onEnded: (finishing: Promise<void>) => void,
  ) {
    this.startedAt = deps.clock.now();
    this.fields = sessionFields(scope, request);
    const remoteCommand = request.kind !== 'portforward';
    this.tap = new SessionTap(tapProtocol(upgrade, subprotocol, remoteCommand), this, (message) =>
      deps.log(`session ${scope.id}: stopped reading the session (${message}); it goes on, unrecorded from here`),
    );
    if (remoteCommand && request.tty && deps.recordings) {
      this.recorder = new SessionRecorder(
        { store: deps.recordings, clock: deps.clock, log: deps.log, budget, ...(deps.recorder ? { options: deps.recorder } : {}) },
        scope.id,
        {
          timestamp: Math.floor(this.startedAt.getTime() / 1000),
          ...(request.command.length > 0 ? { command: request.command.join(' ') } : {}),
          kubeport: {
            session_id: scope.id,
            user: scope.identity?.username ?? '',
            cluster: scope.target?.cluster ?? '',
            namespace: request.namespace,
            pod: request.pod,
            ...(request.container ? { container: request.container } : {}),
            type: request.kind,
          },
        },
        scope.recordInput === true,
      );
    }
    if (request.kind === 'portforward') {
      this.submit(sessionEvent('port', scope.id, 'port', this.startedAt, { ...this.fields, ports: request.ports }));
    } else if (request.tty) {
      // The terminal's size comes with the client's first resize, sent at once: the start waits briefly for it.
      const wait = deps.recorder?.resizeWaitMs ?? defaultRecorderOptions.resizeWaitMs;
      this.startPending = setTimeout(() => this.submitStart(), wait);
      this.startPending.unref();
    } else this.submitStart();
  }

  fromClient(chunk: Buffer): void {
    if (!this.ended) this.tap.fromClient(chunk);
  }

  fromServer(chunk: Buffer): void {
    if (!this.ended) this.tap.fromServer(chunk);
  }

  output(data: Buffer, stream: 'stdout' | 'stderr'): void {
    this.recorder?.output(data, stream);
  }

  input(data: Buffer): void {
    this.recorder?.input(data);
  }

  resize(width: number, height: number): void {
    if (this.startPending) {
      this.size = `${width}x${height}`;
      this.submitStart();
    }
    this.recorder?.resize(width, height);
  }

  exit(status: ExitStatus): void {
    this.exitStatus = status;
  }

  /**
   * The connection ended (or the agent ends it): once the tap has read what already arrived,
   * the events go out and the recording is completed.
   */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const stoppedAt = this.deps.clock.now();
    this.onEnded(this.tap.close().then(() => this.finish(stoppedAt, this.deps.finishMs ?? FINISH_DEADLINE_MS)));
  }

  private async finish(stoppedAt: Date, deadlineMs: number): Promise<void> {
    if (this.startPending) this.submitStart();
    const { kind, tty, command } = this.request;
    if (kind === 'exec') {
      const exit = this.exitStatus;
      this.submit(
        sessionEvent('exec', this.scope.id, 'exec', stoppedAt, {
          ...this.fields,
          command: command.join(' '),
          ...(exit?.code !== undefined ? { exitCode: String(exit.code) } : {}),
          ...(exit?.error !== undefined
            ? { exitError: exit.error }
            : exit === undefined
              ? { exitError: 'the session ended before the command exited' }
              : {}),
          tty,
          bytes_in: this.tap.bytesIn,
          bytes_out: this.tap.bytesOut,
          success: exit?.code === 0,
        }),
      );
    }
    const portForward = kind === 'portforward';
    // Output left out of the recording (store too slow, bounds held, size limit) is said loudly.
    // Nothing more reaches the recorder once the tap is closed, so the count is final here.
    const gap = this.recorder && this.recorder.gapBytes > 0 ? { recording_gap_bytes: this.recorder.gapBytes } : {};
    this.submit(
      sessionEvent('session.end', this.scope.id, 'end', stoppedAt, {
        ...this.fields,
        session_start: this.startedAt.toISOString(),
        session_stop: stoppedAt.toISOString(),
        duration_ms: stoppedAt.getTime() - this.startedAt.getTime(),
        interactive: tty,
        ...(portForward ? {} : { initial_command: command, session_recording: this.recorder ? 'node' : 'off' }),
        participants: [this.scope.identity?.username ?? ''],
        // Port-forward carries the forwarded connections' bytes in its own framing: counted on the wire.
        bytes_in: portForward ? this.tap.wireIn : this.tap.bytesIn,
        bytes_out: portForward ? this.tap.wireOut : this.tap.bytesOut,
        bytes: portForward ? this.tap.wireIn + this.tap.wireOut : this.tap.bytesIn + this.tap.bytesOut,
        ...gap,
      }),
    );
    if (!this.recorder || !(await this.recorder.finish(deadlineMs))) return;
    const url = this.deps.recordings!.url(this.scope.id);
    this.submit(sessionEvent('session.upload', this.scope.id, 'upload', this.deps.clock.now(), { ...this.fields, url, ...gap }));
  }

  private submitStart(): void {
    clearTimeout(this.startPending);
    this.startPending = undefined;
    const { tty, stdin, command } = this.request;
    this.submit(
      sessionEvent('session.start', this.scope.id, 'start', this.startedAt, {
        ...this.fields,
        initial_command: command,
        tty,
        interactive: tty,
        stdin,
        ...(tty ? { size: this.size ?? '80x24' } : {}),
        session_recording: this.recorder ? 'node' : 'off',
      }),
    );
  }

  private submit(event: Parameters<AuditSink['submit']>[0]): void {
    try {
      this.deps.audit?.submit(event);
    } catch (error) {
      this.deps.log(
        `session ${this.scope.id}: ${event.event} event not submitted: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
