// Long-polling over fetch: one GET waiting for data at a time, one POST at a
// time. fetch exists in Node 20 and in browsers, so one implementation serves
// both; binary travels as base64 inside the text payloads.
import { decodePayload, encodePayload } from '@sitehub/protocol';
import { timestamp } from './options.js';
import { Transport, type OutgoingPacket } from './transport.js';

type Outcome = { ok: true; text: string } | { ok: false; status: number; response: Response };

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
        if (outcome.ok) this.#onPayload(outcome.text);
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
        this.onError('parse error', new Error('unparsable polling payload'));
        return;
      }
      if (this.state === 'opening' && packet.type === 'open') this.onOpen();
      if (packet.type === 'close') {
        this.onClose({ description: 'transport closed by the server' });
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
        if (!outcome.ok) return this.onError('fetch write error', outcome.status, outcome.response);
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
  async #request(body: string | undefined): Promise<Outcome> {
    const controller = new AbortController();
    this.#inflight.add(controller);
    try {
      const headers = new Headers(this.opts.extraHeaders);
      if (body !== undefined) headers.set('content-type', 'text/plain;charset=UTF-8');
      const cookie = this.opts.cookieJar?.header();
      if (cookie) headers.set('cookie', cookie);
      const response = await fetch(this.#uri(), {
        method: body === undefined ? 'GET' : 'POST',
        body,
        headers,
        // 'same-origin' rather than 'omit': like XHR without withCredentials,
        // a same-origin page keeps its cookies (sticky sessions).
        credentials: this.opts.withCredentials ? 'include' : 'same-origin',
        cache: 'no-store',
        signal: controller.signal,
      });
      this.opts.cookieJar?.parse(response.headers.getSetCookie?.() ?? []);
      const text = await response.text();
      return response.ok ? { ok: true, text } : { ok: false, status: response.status, response };
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
