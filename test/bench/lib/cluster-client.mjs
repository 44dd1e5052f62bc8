// What the cluster benchmarks (scale, cluster-bridge) say to a hub cluster
// started by test/helpers/hub-cluster.mjs: its REST API as admin, and
// socket.io-client sockets that connect once, without reconnection.
import { io } from 'socket.io-client';

/** A REST call with the cluster's admin token; throws on a status of 300 or more. */
export async function api(cluster, method, path, body) {
  const res = await fetch(cluster.url + path, {
    method,
    headers: { authorization: `Bearer ${cluster.adminToken}`, ...(body && { 'content-type': 'application/json' }) },
    ...(body && { body: JSON.stringify(body) }),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** A WebSocket-only socket on `nsp`, resolved once connected (rejected on connect_error). */
export function connect(url, nsp, auth) {
  const socket = io(url + nsp, { auth, transports: ['websocket'], forceNew: true, reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}
