// HTTP long-polling: GET waits for packets, POST delivers them. One GET and
// one POST at a time per session; the body formats (XHR or JSONP) are
// delegated to a framing so this file only deals with the request cycle.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { decodePayload, decodePayloadV3, encodePacket, encodePayloadV3, PAYLOAD_SEPARATOR, type EngineDecoded } from '@sitehub/protocol';
import { chooseEncoding, compressBody } from './compression.js';
import { EngineErrorCode, writeHttpError } from './errors.js';
import type { ResolvedEngineOptions } from './options.js';
import { WIRE_V4, type Wire } from './wire.js';
import { settleCallbacks, type CloseReason, type OutboundPacket, type Transport, type TransportShutdown, type TransportSink } from './transport.js';
import { TransportEvents } from './transport-events.js';

/** How polling bodies are wrapped: plain text (XHR) or JSONP. */
export interface PollingFraming {
  /** Content-Type of GET responses. */
  readonly contentType: string;
  /** Turns a payload into the GET response body. */
  wrap(payload: string): string;
  /** Extracts the payload from a POST body; null when the body is malformed. */
  unwrap(body: string): string | null;
}

/** Plain XHR polling: the body is the payload. */
export const XHR_FRAMING: PollingFraming = {
  contentType: 'text/plain; charset=UTF-8',
  wrap: (payload) => payload,
  unwrap: (body) => body,
};

/** What polling needs from its server. */
export interface PollingHost {
  readonly opts: ResolvedEngineOptions;
  /** Lets the server and its listeners add response headers (cookies, `headers` events). */
  decorateHeaders(headers: OutgoingHttpHeaders, req: IncomingMessage): void;
}

interface PendingPoll {
  req: IncomingMessage;
  res: ServerResponse;
}

const noop = () => {};

// Internet Explorer's XSS filter can mangle polling answers (it sees script
// in them); `X-XSS-Protection: 0` turns it off, as engine.io sends it. IE
// says `MSIE` up to 10 and `Trident/` from 8 on.
const INTERNET_EXPLORER = /;\s*MSIE|Trident\//;

/** The polling transport of one session. */
export class PollingTransport extends TransportEvents implements Transport {
  readonly name = 'polling' as const;
  sink: TransportSink;
  private poll: PendingPoll | undefined;
  private posting = false;
  private closed = false;

  constructor(
    private readonly host: PollingHost,
    private readonly framing: PollingFraming,
    sink: TransportSink,
    private readonly wire: Wire = WIRE_V4,
  ) {
    super();
    this.sink = sink;
  }

  get writable(): boolean {
    return !this.closed && this.poll !== undefined;
  }

  get bufferedBytes(): number {
    return 0;
  }

  /** Takes a verified GET or POST for this session. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'GET') this.onPoll(req, res);
    else if (req.method === 'POST') this.onPost(req, res);
    else writeHttpError(res, { code: EngineErrorCode.BAD_REQUEST, context: { name: 'BAD_METHOD', method: req.method } });
  }

  send(packets: OutboundPacket[]): void {
    const poll = this.poll;
    if (!poll) {
      settleCallbacks(packets, new Error('no pending poll'));
      return;
    }
    this.poll = undefined;
    let compress = false;
    if (this.wire.protocol === 3) {
      for (const packet of packets) compress ||= packet.compress;
      // Prepared broadcasts carry v4 encodings; v3 encodes from the data.
      const plain = packets.map((p) => ({ type: p.type, data: p.prepared ? p.prepared.data : p.data }));
      this.respond(poll, encodePayloadV3(plain, this.wire.supportsBinary), compress, (err) => settleCallbacks(packets, err));
      return;
    }
    let payload = '';
    for (let i = 0; i < packets.length; i++) {
      const packet = packets[i]!;
      if (i > 0) payload += PAYLOAD_SEPARATOR;
      payload += packet.prepared ? packet.prepared.pollingText : (encodePacket(packet, false) as string);
      compress ||= packet.compress;
    }
    this.respond(poll, payload, compress, (err) => settleCallbacks(packets, err));
  }

  shutdown(how: TransportShutdown): void {
    if (this.closed) return;
    this.closed = true;
    const poll = this.poll;
    this.poll = undefined;
    if (poll) {
      const type = how === 'noop' ? 'noop' : 'close';
      this.respond(poll, this.wire.protocol === 3 ? encodePayloadV3([{ type }], false) : type === 'noop' ? '6' : '1', false, noop);
    }
    // Done from our side: engine.io waits for one more poll (up to
    // closeTimeout) to carry the close packet, we do not keep the session for it.
    this.emit('close');
  }

  /** Tells the session (and `error` listeners, for a transport error) that this transport failed. */
  private fail(reason: CloseReason, description: string, badInput?: string): void {
    if (reason === 'transport error') this.emitError(description);
    this.sink.onTransportError(reason, description, badInput);
  }

  private onPoll(req: IncomingMessage, res: ServerResponse): void {
    if (this.poll) {
      writeHttpError(res, { code: EngineErrorCode.BAD_REQUEST, context: { name: 'POLL_OVERLAP' } });
      this.fail('transport error', 'overlap from client', 'duplicate_poll');
      return;
    }
    this.poll = { req, res };
    res.once('close', () => {
      // Still pending at close: the client gave up on its poll.
      if (this.poll?.res !== res) return;
      this.poll = undefined;
      if (!this.closed) this.fail('transport error', 'poll connection closed prematurely');
    });
    this.sink.onWritable();
  }

  private onPost(req: IncomingMessage, res: ServerResponse): void {
    if (this.posting) {
      writeHttpError(res, { code: EngineErrorCode.BAD_REQUEST, context: { name: 'POST_OVERLAP' } });
      this.fail('transport error', 'data request overlap from client', 'duplicate_post');
      return;
    }
    // v4 polling carries binary as base64 text; a binary body is a v3 client
    // or an attack on the body parser (CVE-2026-59725). Refuse it unread,
    // unless this is a v3 session, whose binary payloads the bounded v3
    // decoder reads.
    const binary = isOctetStream(req.headers['content-type']);
    if (binary && this.wire.protocol !== 3) {
      writeHttpError(res, { code: EngineErrorCode.BAD_REQUEST, context: { name: 'BINARY_POST' } }, true);
      this.fail('transport error', 'binary polling POST', 'binary_post');
      return;
    }
    const limit = this.host.opts.maxHttpBufferSize;
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      this.refuseTooLarge(res);
      return;
    }
    this.posting = true;
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      finished = true;
      this.posting = false;
      chunks.length = 0;
      req.removeListener('data', onData);
      this.refuseTooLarge(res);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (finished) return;
      finished = true;
      this.posting = false;
      const body = Buffer.concat(chunks, size);
      this.onPayload(binary ? body : body.toString('utf8'), req, res);
    });
    res.once('close', () => {
      if (finished) return;
      finished = true;
      this.posting = false;
      if (!this.closed) this.fail('transport error', 'data request connection closed prematurely');
    });
  }

  private refuseTooLarge(res: ServerResponse): void {
    if (!res.headersSent) {
      res.writeHead(413, { 'Content-Type': 'text/plain', 'Content-Length': '0', Connection: 'close' });
      res.end();
    }
    this.fail('transport error', 'POST body larger than maxHttpBufferSize', 'payload_too_large');
  }

  private onPayload(body: string | Buffer, req: IncomingMessage, res: ServerResponse): void {
    const payload = typeof body === 'string' ? this.framing.unwrap(body) : body;
    let ok = payload !== null;
    if (payload !== null) {
      for (const packet of this.decode(payload)) {
        if (packet.type === 'error') {
          ok = false;
          break;
        }
        if (!this.sink.onPacket(packet)) {
          ok = false;
          break;
        }
      }
    }
    if (!ok) {
      writeHttpError(res, { code: EngineErrorCode.BAD_REQUEST, context: { name: 'INVALID_PAYLOAD' } });
      // After a protocol violation the sink has already closed the session;
      // for a parse error it is told here.
      this.fail('parse error', 'invalid payload', 'parse_error');
      return;
    }
    // text/html rather than text/plain keeps some user agents from offering a download.
    const headers = this.headers({ 'Content-Type': 'text/html', 'Content-Length': '2' }, req);
    res.writeHead(200, headers);
    res.end('ok');
  }

  /**
   * The headers of a response: ours, then the server's (cookies, its
   * `headers` events), then this transport's `headers` listeners, which may
   * change the object before it is written.
   */
  private headers(headers: OutgoingHttpHeaders, req: IncomingMessage): OutgoingHttpHeaders {
    const ua = req.headers['user-agent'];
    if (ua !== undefined && INTERNET_EXPLORER.test(ua)) headers['X-XSS-Protection'] = '0';
    // Lower case, as engine.io names it, so that a listener finds it under that name.
    headers['cache-control'] = 'no-store';
    this.host.decorateHeaders(headers, req);
    this.emit('headers', headers, req);
    return headers;
  }

  private decode(payload: string | Buffer): EngineDecoded[] {
    if (this.wire.protocol === 3) return decodePayloadV3(payload);
    return typeof payload === 'string' ? decodePayload(payload) : [{ type: 'error', data: 'parser error' }];
  }

  private respond(poll: PendingPoll, payload: string | Uint8Array, compress: boolean, done: (err?: Error) => void): void {
    const { req, res } = poll;
    const text = typeof payload === 'string';
    // Only a v3 binary payload is bytes; it is never wrapped (JSONP sessions get base64).
    const contentType = text ? this.framing.contentType : 'application/octet-stream';
    const headers = this.headers({ 'Content-Type': contentType }, req);
    const body = text ? Buffer.from(this.framing.wrap(payload)) : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    res.once('close', () => done(res.writableFinished ? undefined : new Error('poll closed before the response was sent')));
    const write = (data: Buffer) => {
      if (res.destroyed) return;
      headers['Content-Length'] = data.length;
      res.writeHead(200, headers);
      res.end(data);
    };
    const compression = this.host.opts.httpCompression;
    const encoding = compression && compress && body.length >= compression.threshold ? chooseEncoding(req.headers['accept-encoding']) : null;
    if (!compression || !encoding) {
      write(body);
      return;
    }
    compressBody(body, encoding, compression, (err, out) => {
      if (err || !out) {
        if (!res.headersSent) res.writeHead(500).end();
        return;
      }
      headers['Content-Encoding'] = encoding;
      write(out);
    });
  }
}

function isOctetStream(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.split(';')[0]!.trim().toLowerCase() === 'application/octet-stream';
}
