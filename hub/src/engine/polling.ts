// HTTP long-polling: GET waits for packets, POST delivers them. One GET and
// one POST at a time per session; the body formats (XHR or JSONP) are
// delegated to a framing so this file only deals with the request cycle.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { decodePayload, decodePayloadV3, encodePacket, encodePayloadV3, PAYLOAD_SEPARATOR, type EngineDecoded } from '@sitehub/protocol';
import { chooseEncoding, compressBody, type ContentEncoding } from './compression.js';
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
  /** Whether decorateHeaders would add or change anything for `req`. */
  decoratesHeaders(req: IncomingMessage): boolean;
}

// The transport a request or response belongs to, for the listeners below:
// one shared function per event instead of closures per request.
const OWNER = Symbol('sitehub.pollingTransport');
type OwnedRequest = IncomingMessage & { [OWNER]?: PollingTransport };
type OwnedResponse = ServerResponse & { [OWNER]?: PollingTransport };

// The answer to a POST; also the headers of every plain response when nobody
// may change them: one array handed to writeHead, no object built per request.
const POST_ANSWER = 'ok';
// text/html rather than text/plain keeps some user agents from offering a download.
const POST_ANSWER_HEADERS = ['Content-Type', 'text/html', 'Content-Length', '2', 'cache-control', 'no-store'];

// Internet Explorer's XSS filter can mangle polling answers (it sees script
// in them); `X-XSS-Protection: 0` turns it off, as engine.io sends it. IE
// says `MSIE` up to 10 and `Trident/` from 8 on.
const INTERNET_EXPLORER = /;\s*MSIE|Trident\//;

/** The polling transport of one session. */
export class PollingTransport extends TransportEvents implements Transport {
  readonly name = 'polling' as const;
  sink: TransportSink;
  // The pending GET (its request is `res.req`).
  private poll: ServerResponse | undefined;
  private closed = false;
  // The POST being read (one at a time): its response, body chunks and size.
  private post: ServerResponse | undefined;
  private postChunks: Buffer[] = [];
  private postSize = 0;
  private postBinary = false;

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
    let callbacks = false;
    for (const packet of packets) {
      compress ||= packet.compress;
      callbacks ||= packet.callback !== undefined;
    }
    // Only packets with callbacks need to hear how the response ended.
    const settle = callbacks ? packets : undefined;
    if (this.wire.protocol === 3) {
      // Prepared broadcasts carry v4 encodings; v3 encodes from the data.
      const plain = packets.map((p) => ({ type: p.type, data: p.prepared ? p.prepared.data : p.data }));
      this.respond(poll, encodePayloadV3(plain, this.wire.supportsBinary), compress, settle);
      return;
    }
    let payload = '';
    for (let i = 0; i < packets.length; i++) {
      const packet = packets[i]!;
      if (i > 0) payload += PAYLOAD_SEPARATOR;
      payload += packet.prepared ? packet.prepared.pollingText : (encodePacket(packet, false) as string);
    }
    this.respond(poll, payload, compress, settle);
  }

  shutdown(how: TransportShutdown): void {
    if (this.closed) return;
    this.closed = true;
    const poll = this.poll;
    this.poll = undefined;
    if (poll) {
      const type = how === 'noop' ? 'noop' : 'close';
      this.respond(poll, this.wire.protocol === 3 ? encodePayloadV3([{ type }], false) : type === 'noop' ? '6' : '1', false, undefined);
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
    this.poll = res;
    (res as OwnedResponse)[OWNER] = this;
    res.on('close', PollingTransport.onPollClose);
    this.sink.onWritable();
  }

  // A GET's response closed; still pending then, the client gave up on its poll.
  private static onPollClose(this: OwnedResponse): void {
    const transport = this[OWNER]!;
    if (transport.poll !== this) return;
    transport.poll = undefined;
    if (!transport.closed) transport.fail('transport error', 'poll connection closed prematurely');
  }

  private onPost(req: IncomingMessage, res: ServerResponse): void {
    if (this.post) {
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
    const declared = Number(req.headers['content-length']);
    if (declared > this.host.opts.maxHttpBufferSize) {
      this.refuseTooLarge(res);
      return;
    }
    this.post = res;
    this.postChunks = [];
    this.postSize = 0;
    this.postBinary = binary;
    (req as OwnedRequest)[OWNER] = this;
    (res as OwnedResponse)[OWNER] = this;
    req.on('data', PollingTransport.onPostData);
    req.on('end', PollingTransport.onPostEnd);
    res.on('close', PollingTransport.onPostClose);
  }

  private static onPostData(this: OwnedRequest, chunk: Buffer): void {
    const transport = this[OWNER]!;
    const res = transport.post;
    if (res === undefined || res.req !== this) return;
    transport.postSize += chunk.length;
    if (transport.postSize <= transport.host.opts.maxHttpBufferSize) {
      transport.postChunks.push(chunk);
      return;
    }
    transport.endPost();
    this.removeListener('data', PollingTransport.onPostData);
    transport.refuseTooLarge(res);
  }

  private static onPostEnd(this: OwnedRequest): void {
    const transport = this[OWNER]!;
    const res = transport.post;
    if (res === undefined || res.req !== this) return;
    const chunks = transport.postChunks;
    const size = transport.postSize;
    const binary = transport.postBinary;
    transport.endPost();
    // Text is decoded straight from a lone chunk; bytes are copied, as the v3 decoder may keep views of them.
    if (binary) transport.onPayload(Buffer.concat(chunks, size), this, res);
    else transport.onPayload((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString('utf8'), this, res);
  }

  // A POST's response closed before its body was read: the client went away.
  private static onPostClose(this: OwnedResponse): void {
    const transport = this[OWNER]!;
    if (transport.post !== this) return;
    transport.endPost();
    if (!transport.closed) transport.fail('transport error', 'data request connection closed prematurely');
  }

  private endPost(): void {
    this.post = undefined;
    this.postChunks = EMPTY_CHUNKS;
    this.postSize = 0;
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
    if (this.plainHeaders(req)) {
      res.writeHead(200, POST_ANSWER_HEADERS);
    } else {
      res.writeHead(200, this.headers({ 'Content-Type': 'text/html', 'Content-Length': '2' }, req));
    }
    res.end(POST_ANSWER);
  }

  /** Whether a response to `req` gets our headers only: no IE workaround, nobody listening to change them. */
  private plainHeaders(req: IncomingMessage): boolean {
    if (this.listenerCount('headers') > 0 || this.host.decoratesHeaders(req)) return false;
    const ua = req.headers['user-agent'];
    return ua === undefined || !INTERNET_EXPLORER.test(ua);
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

  /**
   * Answers a poll with `payload` in one `end`: headers and body leave in one
   * write. `settle` are the packets whose callbacks wait for the outcome.
   */
  private respond(res: ServerResponse, payload: string | Uint8Array, compress: boolean, settle: OutboundPacket[] | undefined): void {
    const req = res.req;
    if (settle) res.on('close', () => settleCallbacks(settle, res.writableFinished ? undefined : new Error('poll closed before the response was sent')));
    if (res.destroyed) return;
    const compression = this.host.opts.httpCompression;
    if (typeof payload === 'string') {
      const text = this.framing.wrap(payload);
      const length = Buffer.byteLength(text);
      const encoding = compression && compress && length >= compression.threshold ? chooseEncoding(req.headers['accept-encoding']) : null;
      // A string body: Node writes it together with the headers, no Buffer copied.
      if (!encoding) this.writeText(req, res, text, length);
      else this.writeCompressed(req, res, this.framing.contentType, Buffer.from(text), encoding);
      return;
    }
    // Only a v3 binary payload is bytes; it is never wrapped (JSONP sessions get base64).
    const body = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const encoding = compression && compress && body.length >= compression.threshold ? chooseEncoding(req.headers['accept-encoding']) : null;
    if (!encoding) this.writeBody(req, res, 'application/octet-stream', body, undefined);
    else this.writeCompressed(req, res, 'application/octet-stream', body, encoding);
  }

  private writeText(req: IncomingMessage, res: ServerResponse, text: string, length: number): void {
    const contentType = this.framing.contentType;
    if (this.plainHeaders(req)) {
      res.writeHead(200, ['Content-Type', contentType, 'cache-control', 'no-store', 'Content-Length', String(length)]);
      res.end(text);
      return;
    }
    this.writeBody(req, res, contentType, Buffer.from(text), undefined);
  }

  private writeBody(req: IncomingMessage, res: ServerResponse, contentType: string, body: Buffer, encoding: string | undefined): void {
    if (res.destroyed) return;
    const headers = this.headers({ 'Content-Type': contentType }, req);
    if (encoding !== undefined) headers['Content-Encoding'] = encoding;
    headers['Content-Length'] = body.length;
    res.writeHead(200, headers);
    res.end(body);
  }

  private writeCompressed(req: IncomingMessage, res: ServerResponse, contentType: string, body: Buffer, encoding: ContentEncoding): void {
    const compression = this.host.opts.httpCompression;
    if (!compression) return;
    compressBody(body, encoding, compression, (err, out) => {
      if (err || !out) {
        if (!res.headersSent) res.writeHead(500).end();
        return;
      }
      this.writeBody(req, res, contentType, out, encoding);
    });
  }
}

const EMPTY_CHUNKS: Buffer[] = [];

// The media type, any case, with optional whitespace and parameters.
const OCTET_STREAM = /^\s*application\/octet-stream\s*(?:;|$)/i;

function isOctetStream(contentType: string | undefined): boolean {
  return contentType !== undefined && OCTET_STREAM.test(contentType);
}
