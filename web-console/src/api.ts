// REST calls with the session cookie. A 401 means the session ended: the
// app goes back to the sign-in page.
import type { AlarmRecord, AlarmRuleRecord, CommandRecord, DeviceEventRecord, Reading as ContractReading, ReadingValue, StreamHeader } from '@sitehub/protocol/iot';

/** A device as the hub lists it. */
export interface Device {
  id: string;
  classId: string;
  siteId: string;
  name: string;
  meta: Record<string, unknown>;
  disabled: boolean;
  online: boolean;
  lastSeen: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface Site {
  id: string;
  name: string;
}

export interface DeviceClass {
  id: string;
  name: string;
}

/** A command record. */
export type Command = CommandRecord;

/** A device event as listed (REST) or streamed (with the device's site and class). */
export type HubEvent = DeviceEventRecord & Partial<Pick<StreamHeader, 'siteId' | 'classId'>>;

/** An alarm as listed (REST) or streamed (with the device's site and class). */
export type Alarm = AlarmRecord & Partial<Pick<StreamHeader, 'siteId' | 'classId'>>;

/** A stored reading, as the device contract has it. */
export type Reading = ContractReading<ReadingValue>;

export interface Bucket {
  ts: number;
  min: number;
  max: number;
  avg: number;
  count: number;
}

/** An error answer of the API. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let onUnauthorized: () => void = () => {};

/** Called when any request answers 401 (the session is gone). */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

/** A JSON request to the hub; throws ApiError on an error status. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    credentials: 'same-origin',
    headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith('/auth/')) onUnauthorized();
    throw new ApiError(res.status, data?.code ?? 'error', data?.error ?? res.statusText);
  }
  return data as T;
}

/** Every device, a page of 1000 at a time (the API's largest page). */
export async function allDevices(): Promise<Device[]> {
  const out: Device[] = [];
  for (let offset = 0; offset < 100_000; offset += 1000) {
    const { items } = await api<{ items: Device[] }>(`/api/devices?limit=1000&offset=${offset}`);
    out.push(...items);
    if (items.length < 1000) break;
  }
  return out;
}

export const signIn = (token: string) => api<{ ok: true }>('/auth/session', { method: 'POST', body: { token } });
export const signInAccount = (name: string, password: string) => api<{ ok: true }>('/auth/session', { method: 'POST', body: { name, password } });
export const signOut = () => api<{ ok: true }>('/auth/session', { method: 'DELETE' });

/** Who is signed in: the role decides which actions the console offers (the hub checks them anyway). */
export interface Me {
  name: string;
  role: 'viewer' | 'operator' | 'admin';
  sites: string[] | null;
}

/** The signed-in person, known after sessionAlive(). */
export let me: Me = { name: '', role: 'viewer', sites: [] };

const RANK = { viewer: 1, operator: 2, admin: 3 } as const;
/** Whether the signed-in person has at least `role`. */
export function can(role: Me['role']): boolean {
  return RANK[me.role] >= RANK[role];
}

/** Resolves when the session cookie is valid (and learns who it is), rejects otherwise. */
export async function sessionAlive(): Promise<void> {
  const answer = await api<{ signedIn: boolean } & Partial<Me>>('/auth/session');
  if (!answer.signedIn) throw new ApiError(401, 'unauthorized', 'not signed in');
  me = { name: answer.name ?? 'admin', role: answer.role ?? 'viewer', sites: answer.sites ?? null };
}

/** An alarm rule as the hub keeps it. */
export type Rule = AlarmRuleRecord;
