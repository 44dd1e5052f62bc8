// The operator's console in Debian's headless Chromium: create an alarm rule,
// drive a device across the threshold, see the alarm, acknowledge and clear
// it, find it in the history; rename, disable, enable and rotate a device's
// token; a custom range as a table and a CSV file, and on the charts with a
// drag to zoom; sites, classes and units; sign in as a viewer account and
// find no way to act.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundles } from '../browser/helpers.js';
import { ADMIN_TOKEN, adminApi, buildConsole, startTestHub, type TestHub } from './hub-console.js';

const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PASSWORD = 'correct horse battery staple';
const DOCS_IMG = fileURLToPath(new URL('../../docs/img/', import.meta.url));
let shotsDir: string;

/** Screenshots go to a temp dir, or to docs/img (for docs/console.md) with SITEHUB_SCREENSHOTS=docs. */
async function shot(name: string, p: Page = page): Promise<void> {
  await p.waitForTimeout(300);
  await p.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: false });
}

let consoleDir: string;
let t: TestHub;
let browser: Browser;
let page: Page;
let token: string;
const sockets: Socket[] = [];
let seq = 0;

function connectThermo(deviceToken: string): Promise<Socket> {
  const socket = ioClient(`${t.url}/devices/thermo`, { auth: { deviceId: 'th-1', token: deviceToken }, transports: ['websocket'], reconnection: false, forceNew: true });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

const send = (socket: Socket, temp: number) => socket.timeout(3000).emitWithAck('telemetry', { seq: ++seq, ts: Date.now() - 60_000 + seq, values: { temp } });

beforeAll(async () => {
  expect(existsSync(CHROMIUM)).toBe(true);
  await buildBundles();
  consoleDir = await buildConsole();
  shotsDir = process.env.SITEHUB_SCREENSHOTS === 'docs' ? DOCS_IMG : await mkdtemp(join(tmpdir(), 'sitehub-operator-shots-'));
  await mkdir(shotsDir, { recursive: true });
  t = await startTestHub(consoleDir);
  await adminApi(t.url, '/api/sites', { id: 'plant-1' });
  await adminApi(t.url, '/api/classes', { id: 'thermo' });
  token = (await adminApi(t.url, '/api/devices', { id: 'th-1', classId: 'thermo', siteId: 'plant-1' })).token;
  await adminApi(t.url, '/api/accounts', { name: 'vera', password: PASSWORD, role: 'viewer' });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, timeout: 30_000 });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${t.url}/`);
  await page.fill('#token', ADMIN_TOKEN);
  await page.press('#token', 'Enter');
  await page.getByRole('heading', { name: 'Overview' }).waitFor({ timeout: 5000 });
}, 90_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await browser?.close();
  await t?.close();
  await rm(consoleDir, { recursive: true, force: true });
  if (process.env.SITEHUB_SCREENSHOTS !== 'docs') await rm(shotsDir, { recursive: true, force: true });
});

describe('operators in the console', () => {
  it('creates a rule, sees the alarm a crossing raises, acknowledges and clears it, and finds it in the history', async () => {
    await page.getByRole('link', { name: 'Rules' }).click({ timeout: 5000 });
    await page.getByRole('heading', { name: 'Alarm rules' }).waitFor({ timeout: 5000 });
    await page.fill('#rule-name', 'too hot');
    await page.selectOption('#rule-scope-kind', 'class');
    await page.fill('#rule-scope-id', 'thermo');
    await page.fill('#rule-metric', 'temp');
    await page.selectOption('#rule-condition', 'above');
    await page.fill('#rule-threshold', '30');
    await page.fill('#rule-hysteresis', '2');
    await page.selectOption('#rule-severity', 'critical');
    await page.getByRole('button', { name: 'Create rule' }).click();
    await page.locator('.rules li', { hasText: 'too hot' }).waitFor({ timeout: 5000 });
    await shot('rules');
    const rules = (await adminApi(t.url, '/api/rules')).items;
    expect(rules).toMatchObject([{ name: 'too hot', scope: { kind: 'class', id: 'thermo' }, metric: 'temp', condition: 'above', threshold: 30, hysteresis: 2, severity: 'critical' }]);

    await page.getByRole('link', { name: 'Alarms' }).click();
    await page.getByRole('heading', { name: 'Alarms' }).waitFor();
    const device = await connectThermo(token);
    await send(device, 25);
    await send(device, 31.5);
    const row = page.locator('tr', { hasText: 'too hot' });
    await row.locator('[data-testid=alarm-state]', { hasText: 'active' }).waitFor({ timeout: 5000 });
    await shot('alarms');
    await row.getByRole('button', { name: 'Acknowledge' }).click();
    await row.locator('[data-testid=alarm-state]', { hasText: 'acknowledged' }).waitFor({ timeout: 5000 });
    expect(await row.textContent()).toContain('ack admin');
    await row.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => page.locator('tr', { hasText: 'too hot' }).count(), { timeout: 5000 }).toBe(0);
    await page.locator('select').first().selectOption('cleared');
    const history = page.locator('tr', { hasText: 'too hot' });
    await history.locator('[data-testid=alarm-state]', { hasText: 'cleared' }).waitFor({ timeout: 5000 });
    expect(await history.textContent()).toContain('cleared admin');
    await shot('alarms-history');
    const stored = (await adminApi(t.url, '/api/alarms?state=cleared')).items;
    expect(stored).toMatchObject([{ deviceId: 'th-1', state: 'cleared', ackedBy: 'admin', clearedBy: 'admin', value: 31.5 }]);
    // The overview lists it from the store.
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.locator('.alarms li', { hasText: 'too hot' }).waitFor({ timeout: 5000 });
    device.close();
  });

  it('renames, disables, enables and rotates the token of a device', async () => {
    await page.goto(`${t.url}/devices/th-1`);
    await page.getByRole('heading', { name: 'Manage' }).waitFor({ timeout: 5000 });
    await page.fill('#device-name', 'Boiler room');
    await page.getByRole('button', { name: 'Rename' }).click();
    await expect.poll(async () => (await adminApi(t.url, '/api/devices/th-1')).name, { timeout: 5000 }).toBe('Boiler room');
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.locator('[data-testid=device-status]', { hasText: 'disabled' }).waitFor({ timeout: 5000 });
    expect((await adminApi(t.url, '/api/devices/th-1')).disabled).toBe(true);
    await expect(connectThermo(token)).rejects.toMatchObject({ data: { code: 'device_disabled' } });
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('button', { name: 'Disable' }).waitFor({ timeout: 5000 });
    expect((await adminApi(t.url, '/api/devices/th-1')).disabled).toBe(false);
    await page.getByRole('button', { name: 'Rotate token' }).click();
    const shown = await page.locator('[data-testid=rotated-token]').textContent({ timeout: 5000 });
    expect(shown!.length).toBeGreaterThan(30);
    await expect(connectThermo(token)).rejects.toMatchObject({ data: { code: 'invalid_credentials' } });
    (await connectThermo(shown!)).close();
    token = shown!;

    // Delete, confirmed in the browser's dialog: another device, so that the tests after this one keep th-1.
    const doomed = (await adminApi(t.url, '/api/devices', { id: 'th-old', classId: 'thermo', siteId: 'plant-1' })).token;
    await page.goto(`${t.url}/devices/th-old`);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete device' }).click();
    await page.getByRole('heading', { name: 'Devices' }).waitFor({ timeout: 5000 });
    const gone = await fetch(`${t.url}/api/devices/th-old`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(gone.status).toBe(404);
    const refusedSocket = ioClient(`${t.url}/devices/thermo`, { auth: { deviceId: 'th-old', token: doomed }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(refusedSocket);
    await expect(new Promise<unknown>((resolve, reject) => { refusedSocket.once('connect', () => resolve(null)); refusedSocket.once('connect_error', reject); })).rejects.toMatchObject({ data: { code: 'invalid_credentials' } });
  });

  it('shows the readings of a custom range in a table, every metric (numeric or not), and exports exactly them as CSV', async () => {
    const device = await connectThermo(token);
    const base = Date.UTC(2026, 0, 15, 10, 0, 0);
    const readings = [
      { seq: 1001, ts: base, values: { temp: 21.5, door: true, mode: 'eco' } },
      { seq: 1002, ts: base + 60_000, values: { temp: 22, door: false, mode: 'say "hi", then go' } },
      { seq: 1003, ts: base + 120_000, values: { temp: 22.5, door: false } },
      // Outside the range: neither in the table nor in the file.
      { seq: 1004, ts: base + 3600_000, values: { temp: 99 } },
    ];
    expect(await device.timeout(3000).emitWithAck('telemetry', readings)).toMatchObject({ ok: true, stored: 4 });
    device.close();
    await page.goto(`${t.url}/devices/th-1`);
    await page.getByRole('heading', { name: 'History' }).waitFor({ timeout: 5000 });
    // The custom range, in the browser's local time (the inputs are datetime-local).
    const local = (ms: number) => page.evaluate((v) => {
      const d = new Date(v - new Date(v).getTimezoneOffset() * 60_000);
      return d.toISOString().slice(0, 16);
    }, ms);
    await page.fill('#history-from', await local(base - 60_000));
    await page.fill('#history-to', await local(base + 5 * 60_000));
    await page.getByRole('button', { name: 'Show readings' }).click();
    await page.locator('[data-testid=history-count]', { hasText: '3 readings' }).waitFor({ timeout: 5000 });
    expect(await page.locator('.history-table thead th').allTextContents()).toEqual(['seq', 'time', 'door', 'mode', 'temp']);
    expect(await page.locator('.history-table tbody tr').first().locator('td').allTextContents()).toEqual(['1003', expect.any(String), 'false', '', '22.5']);
    await page.locator('.history').scrollIntoViewIfNeeded();
    await shot('history');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv).toBe(
      [
        'seq,time,door,mode,temp',
        '1001,2026-01-15T10:00:00.000Z,true,eco,21.5',
        '1002,2026-01-15T10:01:00.000Z,false,"say ""hi"", then go",22',
        '1003,2026-01-15T10:02:00.000Z,false,,22.5',
        '',
      ].join('\r\n'),
    );
    expect(download.suggestedFilename()).toMatch(/^th-1-.*\.csv$/);

    // The charts over a custom range, then zoomed by a drag across one.
    await page.fill('#range-from', await local(base - 60_000));
    await page.fill('#range-to', await local(base + 5 * 60_000));
    await page.getByRole('button', { name: 'Show range' }).click();
    const chart = page.locator('.chart[data-metric="temp"]');
    await expect.poll(() => chart.getAttribute('data-span'), { timeout: 5000 }).toBe(String(6 * 60_000));
    await expect.poll(() => chart.getAttribute('data-points'), { timeout: 5000 }).toBe('3');
    const over = chart.locator('.u-over');
    const box = (await over.boundingBox())!;
    // From a quarter to three quarters of the 6 minutes: 10:00:30 to 10:03:30, which holds readings 10:01 and 10:02.
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(async () => Number(await chart.getAttribute('data-span')), { timeout: 5000 }).toBeLessThan(3.2 * 60_000);
    expect(Number(await chart.getAttribute('data-span'))).toBeGreaterThan(2.8 * 60_000);
    await page.locator('.custom-range').scrollIntoViewIfNeeded();
    await shot('zoomed');
    await expect.poll(() => chart.getAttribute('data-points'), { timeout: 5000 }).toBe('2');
    // The range fields follow the zoom (to the minute: about 10:00:30 shows as 10:00).
    expect(await page.inputValue('#range-from')).toBe(await local(base));
    await page.getByRole('button', { name: 'Back to live' }).click();
    await expect.poll(() => chart.getAttribute('data-span'), { timeout: 5000 }).toBe(String(15 * 60_000));
  });

  it('manages sites and classes; charts show the class units and the latest value, other metrics their latest value', async () => {
    await page.getByRole('link', { name: 'Sites & classes' }).click();
    await page.getByRole('heading', { name: 'Sites and classes' }).waitFor({ timeout: 5000 });
    await page.fill('#new-site-id', 'plant-2');
    await page.fill('#new-site-name', 'Second plant');
    await page.getByRole('button', { name: 'Add site' }).click();
    await page.locator('li[data-site="plant-2"]').waitFor({ timeout: 5000 });
    await page.getByLabel('name of site plant-1').fill('First plant');
    await page.locator('li[data-site="plant-1"]').getByRole('button', { name: 'Rename' }).click();
    await page.fill('#new-class-id', 'meter');
    await page.getByRole('button', { name: 'Add class' }).click();
    await page.locator('li[data-class="meter"]').waitFor({ timeout: 5000 });
    await page.getByLabel('units of class thermo').fill('temp=°C, door=open');
    await page.locator('li[data-class="thermo"]').getByRole('button', { name: 'Save units' }).click();
    await expect.poll(async () => (await adminApi(t.url, '/api/classes/thermo')).meta, { timeout: 5000 }).toEqual({ units: { temp: '°C', door: 'open' } });
    expect(await adminApi(t.url, '/api/sites/plant-1')).toMatchObject({ name: 'First plant' });
    expect(await adminApi(t.url, '/api/sites/plant-2')).toMatchObject({ name: 'Second plant' });
    expect((await adminApi(t.url, '/api/classes')).items.map((c: { id: string }) => c.id)).toEqual(['meter', 'thermo']);
    await shot('sites-classes');

    const device = await connectThermo(token);
    await device.timeout(3000).emitWithAck('telemetry', { seq: 5000, ts: Date.now() - 1000, values: { temp: 23.25, door: true, mode: 'eco' } });
    await page.goto(`${t.url}/devices/th-1`);
    await page.locator('[data-testid=latest-temp]', { hasText: 'latest 23.25 °C' }).waitFor({ timeout: 5000 });
    expect(await page.locator('figure figcaption', { hasText: 'temp' }).textContent()).toContain('temp (°C)');
    // Live: the next reading moves the latest value.
    await device.timeout(3000).emitWithAck('telemetry', { seq: 5001, ts: Date.now(), values: { temp: 24.5, door: false, mode: 'boost' } });
    await page.locator('[data-testid=latest-temp]', { hasText: 'latest 24.5 °C' }).waitFor({ timeout: 5000 });
    await page.locator('[data-testid=other-metrics]', { hasText: 'boost' }).waitFor({ timeout: 5000 });
    await page.getByRole('heading', { name: 'Manage' }).scrollIntoViewIfNeeded();
    await shot('device-admin');
    device.close();
  });

  it('signs in as a viewer account and offers no way to act', async () => {
    await adminApi(t.url, '/api/commands', { deviceId: 'th-1', name: 'noop' });
    const device = await connectThermo(token);
    await send(device, 20);
    await send(device, 35);
    await expect.poll(async () => (await adminApi(t.url, '/api/alarms?state=active')).items.length, { timeout: 5000 }).toBe(1);
    const viewer = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await viewer.goto(`${t.url}/`);
    await viewer.getByRole('button', { name: 'Sign in with an account' }).click();
    await viewer.fill('#account-name', 'vera');
    await viewer.fill('#account-password', 'not the password');
    await viewer.getByRole('button', { name: 'Sign in', exact: true }).click();
    await viewer.getByRole('alert').filter({ hasText: 'Wrong name or password' }).waitFor({ timeout: 5000 });
    await viewer.fill('#account-password', PASSWORD);
    await viewer.getByRole('button', { name: 'Sign in', exact: true }).click();
    await viewer.getByRole('heading', { name: 'Overview' }).waitFor({ timeout: 5000 });
    expect(await viewer.locator('[data-testid=signed-in-as]').textContent()).toBe('vera (viewer)');
    expect(await viewer.getByRole('button', { name: 'Register device' }).count()).toBe(0);

    await viewer.getByRole('link', { name: 'Alarms' }).click();
    const row = viewer.locator('tr', { hasText: 'too hot' });
    await row.locator('[data-testid=alarm-state]', { hasText: 'active' }).waitFor({ timeout: 5000 });
    await shot('viewer-alarms', viewer);
    await viewer.getByRole('link', { name: 'Rules' }).click();
    await viewer.locator('.rules li', { hasText: 'too hot' }).waitFor({ timeout: 5000 });
    await viewer.goto(`${t.url}/devices/th-1`);
    await viewer.getByRole('heading', { name: 'State' }).waitFor({ timeout: 5000 });
    // Every page visited: no button or form that acts (only navigation, ranges, filters and sign-out).
    for (const path of ['/', '/devices', '/devices/th-1', '/alarms', '/rules', '/registry', '/hub']) {
      await viewer.goto(`${t.url}${path}`);
      await viewer.locator('main h1').first().waitFor({ timeout: 5000 });
      await viewer.waitForTimeout(300);
      const labels = await viewer.locator('button').allTextContents();
      const acting = labels.filter((l) => /acknowledge|clear|send|register|rename|disable|enable|rotate|delete|create|add|save/i.test(l));
      expect(acting, `${path}: ${labels.join(', ')}`).toEqual([]);
      expect(await viewer.locator('input[name=command], #rule-name, #device-name, #new-site-id, #new-class-id').count(), path).toBe(0);
    }
    // And the hub would refuse anyway.
    const refused = await viewer.evaluate(async () => (await fetch('/api/commands', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ deviceId: 'th-1', name: 'x' }) })).status);
    expect(refused).toBe(403);
    await viewer.close();
    device.close();
  });
});
