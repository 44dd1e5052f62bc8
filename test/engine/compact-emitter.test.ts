// The compact emitter behind the per-connection objects (the Engine.IO
// session and transports, the Socket.IO socket) must behave as Node's
// EventEmitter in everything a listener or caller can see: the same script
// of calls gives the same results and the same events on both.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CompactEmitter, compactListenerTable } from '../../hub/src/engine/compact-emitter.js';

type Emitter = EventEmitter;

// Runs the same calls on an emitter and logs everything observable.
function script(emitter: Emitter): unknown[] {
  const log: unknown[] = [];
  // Listeners appear in the log by the name they were made with.
  const names = new Map<unknown, string>();
  // Node hands `removeListener` the once-wrapper of a prepended once-listener.
  const shown = (value: unknown): unknown =>
    names.get(value) ?? (typeof value === 'function' && 'listener' in value ? ['wrapper of', shown(value.listener)] : value);
  const record = (name: string) => {
    const listener = (...args: unknown[]) => log.push([name, ...args.map(shown)]);
    names.set(listener, name);
    return listener;
  };
  log.push(['empty', emitter.eventNames(), emitter.listenerCount('x'), emitter.listeners('x').length, emitter.emit('x', 1)]);
  // Names that an object inheriting from Object.prototype would answer.
  log.push(['inherited names', emitter.emit('toString'), emitter.emit('constructor'), emitter.emit('__proto__'), emitter.listenerCount('hasOwnProperty')]);
  emitter.on('newListener', record('newListener'));
  emitter.on('removeListener', record('removeListener'));
  const a = record('a');
  const b = record('b');
  emitter.on('x', a);
  emitter.prependListener('x', b);
  emitter.once('y', record('y once'));
  emitter.prependOnceListener('y', record('y prepended once'));
  emitter.on('toString', record('toString listener'));
  log.push(['names', emitter.eventNames()]);
  log.push(['emit x', emitter.emit('x', 1, 2)]);
  log.push(['emit y', emitter.emit('y', 3), emitter.emit('y', 4)]);
  log.push(['emit toString', emitter.emit('toString', 5)]);
  emitter.off('x', b);
  log.push(['after off', emitter.listenerCount('x'), emitter.rawListeners('x').map(shown), emitter.eventNames()]);
  emitter.removeAllListeners('x');
  log.push(['after removeAll x', emitter.eventNames(), emitter.emit('x')]);
  emitter.setMaxListeners(5);
  emitter.on('z', a);
  emitter.on('z', a);
  log.push(['max', emitter.getMaxListeners(), emitter.listenerCount('z')]);
  emitter.removeAllListeners();
  log.push(['after removeAll', emitter.eventNames(), emitter.emit('z')]);
  let thrown: unknown;
  try {
    emitter.emit('error', new Error('unheard'));
  } catch (err) {
    thrown = (err as Error).message;
  }
  log.push(['unheard error throws', thrown]);
  emitter.on('error', record('error'));
  log.push(['heard error', emitter.emit('error', 'e')]);
  return log;
}

class Compact extends CompactEmitter {}

describe('CompactEmitter', () => {
  it('behaves as EventEmitter through a script of calls', () => {
    const expected = script(new EventEmitter());
    expect(script(new Compact())).toEqual(expected);
    // The reference run is not trivially empty.
    expect(expected.length).toBeGreaterThan(10);
  });

  it('is an EventEmitter and has no listener table until the first listener', () => {
    const emitter = new Compact();
    expect(emitter).toBeInstanceOf(EventEmitter);
    expect(Object.hasOwn(emitter, '_events')).toBe(false);
    emitter.emit('nothing');
    expect(Object.hasOwn(emitter, '_events')).toBe(false);
    emitter.once('x', () => {});
    expect(Object.hasOwn(emitter, '_events')).toBe(true);
  });

  it('compactListenerTable keeps an emitter made by EventEmitter working the same', () => {
    const emitter = new EventEmitter();
    compactListenerTable(emitter);
    expect(script(emitter)).toEqual(script(new EventEmitter()));
  });

  it('compactListenerTable leaves a table that holds listeners alone', () => {
    const emitter = new EventEmitter();
    const listener = () => {};
    emitter.on('x', listener);
    compactListenerTable(emitter);
    expect(emitter.listeners('x')).toEqual([listener]);
  });
});
