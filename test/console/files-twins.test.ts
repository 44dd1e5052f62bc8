// The console's device page in Chromium for issue 21: a snapshot a device
// uploads appears as an image; a file sent from the page's file input reaches
// the device, with its delivery shown done; desired properties set from the
// page reach the device, and its report shows.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileReceiver, io as deviceIo, uploadFile, type Socket } from '@sitehub/device-client';
import { buildBundles } from '../browser/helpers.js';
import { ADMIN_TOKEN, adminApi, buildConsole, startTestHub, type TestHub } from './hub-console.js';

const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SNAPSHOT = fileURLToPath(new URL('../../docs/img/sign-in.png', import.meta.url));

let consoleDir: string;
let t: TestHub;
let browser: Browser;
let page: Page;
let device: Socket;
let filesDir: string;
let receiver: FileReceiver;

beforeAll(async () => {
  expect(existsSync(CHROMIUM)).toBe(true);
  await buildBundles();
  consoleDir = await buildConsole();
  t = await startTestHub(consoleDir);
  await adminApi(t.url, '/api/sites', { id: 'yard' });
  await adminApi(t.url, '/api/classes', { id: 'cam' });
  const { token } = await adminApi(t.url, '/api/devices', { id: 'cam-1', classId: 'cam', siteId: 'yard' });
  filesDir = mkdtempSync(join(tmpdir(), 'sitehub-console-files-'));
  device = deviceIo(`${t.url}/devices/cam`, { auth: { deviceId: 'cam-1', token }, transports: ['websocket'], forceNew: true });
  // Any client can take files: the device-client's receiver on a plain socket.
  receiver = new FileReceiver(device, { dir: filesDir, maxBytes: 1e7, windowChunks: 4, hookTimeoutMs: 1000 }, pino({ level: 'silent' }));
  device.on('file:offer', (offer: Parameters<FileReceiver['offer']>[0], ack: (a: unknown) => void) => void receiver.offer(offer, ack));
  device.on('file:chunk', (chunk: Parameters<FileReceiver['chunk']>[0]) => receiver.chunk(chunk));
  device.on('desired', (d: { version: number; desired: Record<string, unknown> }) => void device.emit('reported', { version: d.version, reported: d.desired }));
  await new Promise<void>((resolve) => device.once('connect', () => resolve()));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, timeout: 30_000 });
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(`${t.url}/`);
  await page.fill('#token', ADMIN_TOKEN);
  await page.press('#token', 'Enter');
  await page.getByRole('heading', { name: 'Overview' }).waitFor({ timeout: 5000 });
  await page.goto(`${t.url}/devices/cam-1`);
  await page.getByRole('heading', { name: /cam-1/ }).waitFor({ timeout: 5000 });
  // The page shows uploads from its list and from the live stream: upload only once the stream is subscribed.
  await page.getByRole('status', { name: 'live connection up' }).waitFor({ timeout: 5000 });
}, 90_000);

afterAll(async () => {
  device?.close();
  await browser?.close();
  await t?.close();
  await rm(consoleDir, { recursive: true, force: true });
  if (filesDir) rmSync(filesDir, { recursive: true, force: true });
});

describe('files and desired state in the console', () => {
  it('shows a snapshot the device uploads, as an image that loads', async () => {
    const done = await uploadFile(device, SNAPSHOT, { kind: 'snapshot', contentType: 'image/png', name: 'yard.png' });
    expect(done.ok).toBe(true);
    const img = page.locator(`li[data-upload="${done.fileId}"] img`);
    await img.waitFor({ timeout: 5000 });
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth), { timeout: 5000 }).toBeGreaterThan(100);
    expect(await img.getAttribute('alt')).toBe('snapshot yard.png');
  });

  it('sends a file chosen in the page to the device and shows the delivery done', async () => {
    await page.setInputFiles('input[name=file]', { name: 'settings.json', mimeType: 'application/json', buffer: Buffer.from('{"gain": 3}') });
    await page.getByRole('button', { name: 'Upload to device' }).click();
    await page.locator('li[data-status="done"]', { hasText: 'settings.json' }).waitFor({ timeout: 8000 });
    expect(readFileSync(join(filesDir, 'settings.json'), 'utf8')).toBe('{"gain": 3}');
  });

  it('sets desired properties and shows the device report', async () => {
    await page.fill('textarea[name=desired]', '{"exposure": {"ms": 20}}');
    await page.getByRole('button', { name: 'Set', exact: true }).click();
    await page.locator('[data-testid=twin-versions]', { hasText: 'desired v1 · applied v1' }).waitFor({ timeout: 5000 });
    expect(JSON.parse((await page.locator('[data-testid=twin-reported]').textContent())!)).toEqual({ exposure: { ms: 20 } });
  });
});
