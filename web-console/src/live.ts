// The /console socket: one per signed-in page, subscribed to everything.
// Listeners are called synchronously; pages that render what they hear must
// batch it (see useThrottled) so that a busy hub cannot freeze the page.
import type { StreamPayloads, TwinDocument } from '@sitehub/protocol/iot';
import type { Alarm, Command, HubEvent } from './api';

export type PresenceMsg = StreamPayloads['presence'];
export type TelemetryMsg = StreamPayloads['telemetry'];
export type StateMsg = StreamPayloads['state'];
export type TwinMsg = StreamPayloads['twin'];
export type FileMsg = StreamPayloads['file'];
export type UploadMsg = StreamPayloads['upload'];

export interface LiveEvents {
  presence: PresenceMsg;
  telemetry: TelemetryMsg;
  state: StateMsg;
  event: HubEvent;
  command: Command;
  twin: TwinMsg;
  file: FileMsg;
  upload: UploadMsg;
  alarm: Alarm;
}
export type LiveKind = keyof LiveEvents;
export const LIVE_KINDS: LiveKind[] = ['presence', 'telemetry', 'state', 'event', 'command', 'twin', 'file', 'upload', 'alarm'];

interface ConsoleSocket {
  connected: boolean;
  on(event: string, fn: (...args: any[]) => void): void;
  emit(event: string, ...args: any[]): void;
  timeout(ms: number): { emitWithAck(event: string, ...args: any[]): Promise<any> };
  disconnect(): void;
}

declare global {
  interface Window {
    io?: (nsp: string, opts: Record<string, unknown>) => ConsoleSocket;
  }
}

type Listener<K extends LiveKind> = (msg: LiveEvents[K]) => void;

/** The live connection to /console. */
export class Live {
  private socket: ConsoleSocket | undefined;
  private readonly listeners = new Map<string, Set<(msg: any) => void>>();
  private statusListeners = new Set<(connected: boolean) => void>();
  connected = false;
  /** Messages received per kind since the page opened. */
  readonly counts: Record<LiveKind, number> = { presence: 0, telemetry: 0, state: 0, event: 0, command: 0, twin: 0, file: 0, upload: 0, alarm: 0 };

  /** Connects; the browser sends the session cookie on the handshake. */
  start(onRefused: () => void): void {
    if (!window.io) throw new Error('the Socket.IO client (/socket.io/socket.io.min.js) did not load');
    const socket = window.io('/console', { withCredentials: true, reconnectionDelayMax: 5000 });
    this.socket = socket;
    const setStatus = (c: boolean) => {
      this.connected = c;
      for (const l of this.statusListeners) l(c);
    };
    // Live once the subscription is in place: until then, events would not reach this page.
    socket.on('connect', () => socket.emit('subscribe', {}, () => setStatus(socket.connected)));
    socket.on('disconnect', () => setStatus(false));
    socket.on('connect_error', (err: { message?: string }) => {
      setStatus(false);
      if (err?.message === 'authentication failed') onRefused();
    });
    for (const kind of LIVE_KINDS) {
      socket.on(kind, (msg: unknown) => {
        this.counts[kind] += kind === 'telemetry' ? ((msg as TelemetryMsg).readings?.length ?? 1) : 1;
        const set = this.listeners.get(kind);
        if (set) for (const l of set) l(msg);
      });
    }
  }

  stop(): void {
    this.socket?.disconnect();
    this.socket = undefined;
  }

  /** Adds a listener; returns its removal. */
  on<K extends LiveKind>(kind: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(kind);
    if (!set) this.listeners.set(kind, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  onStatus(listener: (connected: boolean) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Emits `event` with an ack on /console; resolves with the hub's answer. */
  async request(event: string, payload: unknown): Promise<any> {
    if (!this.socket) throw new Error('not connected');
    return this.socket.timeout(10_000).emitWithAck(event, payload);
  }

  /** Sends a command without waiting for the device; progress arrives as `command` messages. */
  async command(deviceId: string, name: string, params: unknown): Promise<Command> {
    if (!this.socket) throw new Error('not connected');
    const answer = await this.socket.timeout(10_000).emitWithAck('command', { deviceId, name, params, wait: false });
    if (!answer?.ok) throw new Error(answer?.error ?? 'command refused');
    return answer.command as Command;
  }
}

export const live = new Live();

/** Merges desired properties into a device's twin, based on `version` (refused when it moved on). */
export async function setDesired(deviceId: string, desired: Record<string, unknown>, version: number): Promise<TwinDocument> {
  const answer = await live.request('twin:set', { deviceId, desired, version });
  if (!answer?.ok) throw new Error(answer?.error ?? 'refused');
  return answer.twin as TwinDocument;
}
