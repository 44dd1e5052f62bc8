// The in-memory adapter and the recovery packet log, driven through their
// public methods with a stand-in namespace (no network).
import { describe, expect, it, vi } from 'vitest';
import { Encoder, PacketType } from '@sitehub/protocol';
import { Adapter } from '../../hub/src/realtime/adapter.js';
import { PacketLog } from '../../hub/src/realtime/packet-log.js';

interface FakeSocket {
  id: string;
  written: unknown[];
  client: { _writePrepared(frames: unknown[], volatile: boolean): void };
  _notifyOutgoing(): void;
  _registerAck(): void;
  join(rooms: string | string[]): void;
  leave(room: string): void;
  disconnect(): void;
}

function setup() {
  const prepare = vi.fn((data: string | Uint8Array) => ({ data }));
  const nsp = {
    name: '/',
    sockets: new Map<string, FakeSocket>(),
    server: { encoder: new Encoder(), engine: { prepare } },
    _nextAckId: () => 0,
  };
  const adapter = new Adapter(nsp as never);
  const add = (id: string, ...rooms: string[]) => {
    const socket: FakeSocket = {
      id,
      written: [],
      client: { _writePrepared: (frames) => socket.written.push(...frames) },
      _notifyOutgoing() {},
      _registerAck() {},
      join: (r) => void adapter.addAll(id, new Set(Array.isArray(r) ? r : [r])),
      leave: (r) => void adapter.del(id, r),
      disconnect: () => {
        adapter.delAll(id);
        nsp.sockets.delete(id);
      },
    };
    nsp.sockets.set(id, socket);
    adapter.addAll(id, new Set([id, ...rooms]));
    return socket;
  };
  return { adapter, add, prepare, nsp };
}

const event = (...data: unknown[]) => ({ type: PacketType.EVENT, nsp: '/', data });

describe('Adapter room index', () => {
  it('keeps rooms -> sockets and sockets -> rooms in step and emits room events', () => {
    const { adapter } = setup();
    const events: string[] = [];
    for (const name of ['create-room', 'delete-room', 'join-room', 'leave-room']) {
      adapter.on(name, (...args: unknown[]) => events.push(`${name}:${args.join(',')}`));
    }
    adapter.addAll('s1', new Set(['a', 'b']));
    adapter.addAll('s2', new Set(['a']));
    adapter.addAll('s2', new Set(['a']));
    expect([...adapter.rooms.get('a')!]).toEqual(['s1', 's2']);
    expect([...adapter.socketRooms('s1')!]).toEqual(['a', 'b']);
    adapter.del('s1', 'a');
    adapter.delAll('s2');
    expect(adapter.rooms.has('a')).toBe(false);
    expect(adapter.sids.has('s2')).toBe(false);
    expect(events).toEqual([
      'create-room:a',
      'join-room:a,s1',
      'create-room:b',
      'join-room:b,s1',
      'join-room:a,s2',
      'leave-room:a,s1',
      'leave-room:a,s2',
      'delete-room:a',
    ]);
  });

  it('broadcasts to the union of rooms minus except, each socket once, encoding once', () => {
    const { adapter, add, prepare } = setup();
    const a = add('a', 'r1', 'r2');
    const b = add('b', 'r2');
    const c = add('c', 'r1', 'x');
    const d = add('d');
    adapter.broadcast(event('hi', 1), { rooms: new Set(['r1', 'r2']), except: new Set(['x']) });
    expect(a.written).toHaveLength(1);
    expect(b.written).toHaveLength(1);
    expect(c.written).toHaveLength(0);
    expect(d.written).toHaveLength(0);
    expect(prepare).toHaveBeenCalledTimes(1);
    expect(prepare).toHaveBeenCalledWith('2["hi",1]', { compress: true });
    // The very same prepared object goes to every recipient.
    expect(a.written[0]).toBe(b.written[0]);
  });

  it('broadcasts to every socket when no room is given, and prepares nothing for no recipient', () => {
    const { adapter, add, prepare } = setup();
    const sockets = ['a', 'b', 'c'].map((id) => add(id));
    adapter.broadcast(event('all'), { rooms: new Set(), except: new Set(['b']) });
    expect(sockets.map((s) => s.written.length)).toEqual([1, 0, 1]);
    adapter.broadcast(event('none'), { rooms: new Set(['empty']) });
    expect(prepare).toHaveBeenCalledTimes(1);
  });

  it('prepares each binary attachment once as its own message', () => {
    const { adapter, add, prepare } = setup();
    add('a');
    add('b');
    adapter.broadcast(event('bin', { x: Buffer.from([1, 2]) }), { rooms: new Set() });
    expect(prepare).toHaveBeenCalledTimes(2);
    expect(prepare.mock.calls[0]![0]).toBe('51-["bin",{"x":{"_placeholder":true,"num":0}}]');
    expect([...(prepare.mock.calls[1]![0] as Uint8Array)]).toEqual([1, 2]);
  });

  it('lists, joins, leaves and disconnects the matching sockets', async () => {
    const { adapter, add } = setup();
    add('a', 'r');
    add('b', 'r');
    add('c');
    expect([...(await adapter.sockets(new Set(['r'])))]).toEqual(['a', 'b']);
    adapter.addSockets({ rooms: new Set(['r']) }, ['joined']);
    expect([...adapter.rooms.get('joined')!]).toEqual(['a', 'b']);
    adapter.delSockets({ rooms: new Set(), except: new Set(['a']) }, ['joined']);
    expect([...adapter.rooms.get('joined')!]).toEqual(['a']);
    adapter.disconnectSockets({ rooms: new Set(['r']) }, false);
    expect([...(await adapter.sockets(new Set()))]).toEqual(['c']);
  });

  it('answers a serverSideEmit ack with no replies (no other server)', async () => {
    const { adapter } = setup();
    const replies = await new Promise((resolve) => adapter.serverSideEmit(['ping', (_e: unknown, r: unknown) => resolve(r)]));
    expect(replies).toEqual([]);
  });
});

describe('PacketLog', () => {
  it('returns the packets after an offset, and null for unknown offsets', () => {
    const log = new PacketLog(100);
    const offsets: string[] = [];
    for (let i = 0; i < 5; i++) {
      offsets.push(log.nextOffset());
      log.append([`p${i}`], [], undefined);
    }
    expect(log.after(offsets[1]!)!.map((e) => e.encoded[0])).toEqual(['p2', 'p3', 'p4']);
    expect(log.after(offsets[4]!)).toEqual([]);
    expect(log.after('nope')).toBeNull();
    expect(log.after(offsets[0]!.slice(0, -1) + 'z')).toBeNull();
  });

  it('forgets the oldest packets beyond its bound, so an old offset is no longer recoverable', () => {
    const log = new PacketLog(3);
    const offsets: string[] = [];
    for (let i = 0; i < 6; i++) {
      offsets.push(log.nextOffset());
      log.append([`p${i}`], [], undefined);
    }
    expect(log.size).toBe(3);
    expect(log.after(offsets[1]!)).toBeNull();
    // p3 itself is gone but everything after it is there.
    expect(log.after(offsets[2]!)!.map((e) => e.encoded[0])).toEqual(['p3', 'p4', 'p5']);
  });

  it('expires packets by age', () => {
    vi.useFakeTimers();
    try {
      const log = new PacketLog(100);
      const first = log.nextOffset();
      log.append(['old'], [], undefined);
      vi.advanceTimersByTime(10_000);
      log.append(['new'], [], undefined);
      log.expire(Date.now() - 5_000);
      expect(log.size).toBe(1);
      expect(log.after(first)!.map((e) => e.encoded[0])).toEqual(['new']);
    } finally {
      vi.useRealTimers();
    }
  });
});
