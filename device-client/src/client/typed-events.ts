// Type helpers so that `Socket<ListenEvents, EmitEvents>` checks event names
// and arguments the way socket.io-client's typings do.

/** A map from event names to listener signatures. */
export interface EventsMap {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [event: string]: any;
}

/** The default: any event name, any arguments. */
export interface DefaultEventsMap {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [event: string]: (...args: any[]) => void;
}

/** The event names of a map. */
export type EventNames<Map extends EventsMap> = keyof Map & string;

/** The arguments of one event. */
export type EventParams<Map extends EventsMap, Ev extends EventNames<Map>> = Parameters<Map[Ev]>;

/** The listener of one event. */
export type EventListener<Map extends EventsMap, Ev extends EventNames<Map>> = Map[Ev];

/** Reserved event names, or user event names when not reserved. */
export type ReservedOrUserEventNames<Reserved extends EventsMap, User extends EventsMap> =
  | EventNames<Reserved>
  | EventNames<User>;

/** The listener type of a reserved or user event. */
export type ReservedOrUserListener<
  Reserved extends EventsMap,
  User extends EventsMap,
  Ev extends ReservedOrUserEventNames<Reserved, User>,
> = Ev extends EventNames<Reserved> ? Reserved[Ev] : Ev extends EventNames<User> ? User[Ev] : never;

/** Last element of a tuple. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Last<T extends any[]> = T extends [...infer _H, infer L] ? L : any;

/** All elements of a tuple but the last. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AllButLast<T extends any[]> = T extends [...infer H, infer _L] ? H : any[];

/** The first argument of a function type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type FirstArg<T> = T extends (arg: infer Param, ...rest: any[]) => any ? Param : any;

type PrependTimeoutError<T extends unknown[]> = {
  [K in keyof T]: T[K] extends (...args: infer Params) => infer Result ? (err: Error, ...args: Params) => Result : T[K];
};

/** After `timeout(ms)`, ack callbacks get an error first. */
export type DecorateAcknowledgements<E> = {
  [K in keyof E]: E[K] extends (...args: infer Params) => infer Result
    ? (...args: PrependTimeoutError<Params>) => Result
    : E[K];
};
