// Long-polling: one GET waiting for data at a time, one POST at a time;
// binary travels as base64 inside the text payloads. The HTTP client is the
// platform's (platform.ts): node:http in Node, fetch in browsers.
import { decodePayload, encodePayload } from '@sitehub/protocol';
import { timestamp } from './options.js';
import { httpRequestText, type HttpOutcome } from './platform.js';
import { Transport, type OutgoingPacket } from './transport.js';

const isSuccess = (outcome: HttpOutcome): boolean => outcome.status >= 200 && outcome.status < 300;

/** The Engine.IO polling transport. */
export class PollingTransport extends Transport {
  readonly name = 'polling' as const;
  #polling = false;
  /** Requests in flight, aborted when the transport closes. */
  readonly #inflight = new Set<AbortController>();

  protected doOpen(): void {
    this.#poll();
  }

  /** Waits for the running GET and POST to finish, then stops polling. */
  override pause(onPause: () => void): void {
    this.state = 'pausing';
    let waiting = 0;
    const done = (): void => {
      if (--waiting > 0) return;
      this.state = 'paused';
      onPause();
    };
    if (this.#polling) {
      waiting++;
      this.once('pollComplete', done);
    }
    if (!this.writable) {
      waiting++;
      this.once('drain', done);
    }
    if (waiting === 0) {
      waiting = 1;
      done();
    }
  }

  #poll(): void {
    this.#polling = true;
    this.#request(undefined).then(
      (outcome) => {
        if (this.state === 'closed') return;
        if (isSuccess(outcome)) this.#onPayload(outcome.text);
        else this.onError('fetch read error', outcome.status, outcome.response);
      },
      (err: unknown) => {
        if (this.state !== 'closed') this.onError('fetch read error', err);
      },
    );
    this.emitReserved('poll');
  }

  #onPayload(text: string): void {
    for (const packet of decodePayload(text)) {
      if (packet.type === 'error') {
        this.onError('parse error', new Error('bad payload'));
        return;
      }
      if (this.state === 'opening' && packet.type === 'open') this.onOpen();
      if (packet.type === 'close') {
        this.onClose({ description: 'server close' });
        return;
      }
      this.onPacket(packet);
      if (this.state === 'closed') return;
    }
    this.#polling = false;
    this.emitReserved('pollComplete');
    if (this.state === 'open') this.#poll();
  }

  protected write(packets: OutgoingPacket[]): void {
    this.writable = false;
    this.#request(encodePayload(packets)).then(
      (outcome) => {
        if (this.state === 'closed') return;
        if (!isSuccess(outcome)) return this.onError('fetch write error', outcome.status, outcome.response);
        this.writable = true;
        this.emitReserved('drain');
      },
      (err: unknown) => {
        if (this.state !== 'closed') this.onError('fetch write error', err);
      },
    );
  }

  protected doClose(): void {
    const abortAll = (): void => {
      for (const controller of this.#inflight) controller.abort();
      this.#inflight.clear();
    };
    if (this.state === 'opening') {
      abortAll();
      return;
    }
    // Tell the server first (it then ends the pending GET itself); whatever
    // is still pending afterwards must not keep the process or page busy.
    this.#request(encodePayload([{ type: 'close' }])).then(abortAll, abortAll);
  }

  /** One HTTP request: GET when `body` is undefined, POST otherwise. */
  async #request(body: string | undefined): Promise<HttpOutcome> {
    const controller = new AbortController();
    this.#inflight.add(controller);
    try {
      return await httpRequestText(this.#uri(), body, this.opts, controller.signal);
    } finally {
      this.#inflight.delete(controller);
    }
  }

  #uri(): string {
    const query = { ...this.query };
    if (this.opts.timestampRequests !== false) query[this.opts.timestampParam] = timestamp();
    return this.uri(this.opts.secure ? 'https' : 'http', query);
  }
}
