// The console in Debian's headless Chromium against a hub set up like the
// demo (two sites, three simulated devices): a wrong token is refused; sign
// in; a device comes online and its row updates; its chart receives live
// points; a command's result appears; a device is registered and its token
// shown once; sign out. Screenshots of every page go to a temp dir, or to
// docs/img with SITEHUB_SCREENSHOTS=docs.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundles } from '../browser/helpers.js';
import { ADMIN_TOKEN, adminApi, buildConsole, connectDevice, startTestHub, type SimDevice, type TestHub } from './hub-console.js';

const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const DOCS_IMG = fileURLToPath(new URL('../../docs/img/', import.meta.url));

let consoleDir: string;
let shotsDir: string;
let t: TestHub;
let browser: Browser;
let page: Page;
const tokens = new Map<string, string>();
const devices: SimDevice[] = [];

async function shot(name: string, p: Page = page): Promise<void> {
  await p.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: false });
}

beforeAll(async () => {
  expect(existsSync(CHROMIUM)).toBe(true);
  await buildBundles();
  consoleDir = await buildConsole();
  shotsDir = process.env.SITEHUB_SCREENSHOTS === 'docs' ? DOCS_IMG : await mkdtemp(join(tmpdir(), 'sitehub-console-shots-'));
  await mkdir(shotsDir, { recursive: true });
  t = await startTestHub(consoleDir);
  // The demo's layout: two sites, three devices.
  await adminApi(t.url, '/api/sites', { id: 'plant-north', name: 'North plant' });
  await adminApi(t.url, '/api/sites', { id: 'plant-south', name: 'South plant' });
  await adminApi(t.url, '/api/classes', { id: 'thermostat' });
  await adminApi(t.url, '/api/classes', { id: 'air' });
  for (const [id, classId, siteId] of [['th-north-1', 'thermostat', 'plant-north'], ['air-north-1', 'air', 'plant-north'], ['th-south-1', 'thermostat', 'plant-south']]) {
    const { token } = await adminApi(t.url, '/api/devices', { id, classId, siteId });
    tokens.set(id!, token);
  }
  devices.push(await connectDevice(t.url, 'air', 'air-north-1', tokens.get('air-north-1')!));
  devices.push(await connectDevice(t.url, 'thermostat', 'th-south-1', tokens.get('th-south-1')!));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, timeout: 30_000 });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
}, 90_000);

afterAll(async () => {
  for (const d of devices) d.stop();
  await browser?.close();
  await t?.close();
  await rm(consoleDir, { recursive: true, force: true });
  if (process.env.SITEHUB_SCREENSHOTS !== 'docs') await rm(shotsDir, { recursive: true, force: true });
});

describe('web console in Chromium', () => {
  it('refuses a wrong admin token', async () => {
    await page.goto(`${t.url}/`);
    await page.fill('#token', 'wrong-token-123');
    await page.click('button[type=submit]');
    await page.getByRole('alert').filter({ hasText: 'Wrong admin token' }).waitFor({ timeout: 5000 });
    await shot('sign-in');
    expect(await page.locator('#token').isVisible()).toBe(true);
  });

  it('signs in and shows the overview with sites, counts and alarms', async () => {
    await page.fill('#token', ADMIN_TOKEN);
    await page.press('#token', 'Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor({ timeout: 5000 });
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'sitehub_session')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Strict');
    await page.locator('[data-testid=online-count]', { hasText: '2' }).waitFor({ timeout: 5000 });
    await page.getByRole('article', { name: 'site plant-north' }).waitFor();
  });

  it('updates a device row when the device comes online', async () => {
    await page.getByRole('link', { name: 'Devices', exact: true }).click();
    const row = page.locator('tr[data-device="th-north-1"]');
    await row.waitFor({ timeout: 5000 });
    expect(await row.getAttribute('data-status')).toBe('offline');
    devices.push(await connectDevice(t.url, 'thermostat', 'th-north-1', tokens.get('th-north-1')!));
    await page.locator('tr[data-device="th-north-1"][data-status="online"]').waitFor({ timeout: 5000 });
    await expect.poll(() => row.locator('td').nth(4).textContent(), { timeout: 5000 }).toBe('websocket');
    // Overview shows it too; back to the device list for its screenshot.
    await page.locator('[data-testid=online-count]').count();
    await shot('devices');
  });

  it('draws live points on the device chart and shows a command result', async () => {
    await page.getByRole('link', { name: 'th-north-1' }).click();
    await page.getByRole('heading', { name: /th-north-1/ }).waitFor({ timeout: 5000 });
    const chart = page.locator('.chart[data-metric="temp"]');
    await chart.waitFor({ timeout: 5000 });
    const before = Number(await chart.getAttribute('data-points'));
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 5000 }).toBeGreaterThan(before + 2);
    await page.fill('input[name=command]', 'setpoint');
    await page.fill('textarea[name=params]', '{"celsius": 21.5}');
    await page.getByRole('button', { name: 'Send' }).click();
    const cmd = page.locator('li[data-status="acked"]', { hasText: 'setpoint' });
    await cmd.waitFor({ timeout: 8000 });
    expect(await cmd.textContent()).toContain('"celsius":21.5');
    expect(await cmd.textContent()).toContain('"by":"th-north-1"');
    await page.getByRole('heading', { name: 'State' }).waitFor();
    await shot('device');
  });

  it('registers a device and shows its token once, in an agent configuration that works', async () => {
    await page.getByRole('button', { name: 'Register device' }).click();
    await page.fill('input[name=siteId]', 'plant-south');
    await page.fill('input[name=classId]', 'air');
    await page.fill('input[name=deviceId]', 'air-south-1');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    const tokenBox = page.locator('[data-testid=device-token]');
    await tokenBox.waitFor({ timeout: 5000 });
    const token = await tokenBox.inputValue();
    expect(token.length).toBeGreaterThan(30);
    const config = JSON.parse(await page.locator('[data-testid=agent-config]').inputValue());
    expect(config.hub).toEqual({ url: t.url, deviceId: 'air-south-1', token, class: 'air' });
    await shot('register');
    // The token works, and nothing shows it again.
    const d = await connectDevice(t.url, 'air', 'air-south-1', token);
    devices.push(d);
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('heading', { name: /air-south-1/ }).waitFor({ timeout: 5000 });
    expect(await page.content()).not.toContain(token);
    expect(JSON.stringify(await adminApi(t.url, '/api/devices/air-south-1'))).not.toContain(token);
  });

  it('shows the live stream, rate-capped and pausable', async () => {
    await page.getByRole('link', { name: 'Live stream' }).click();
    const rows = page.locator('table.stream tbody tr');
    await expect.poll(() => rows.count(), { timeout: 5000 }).toBeGreaterThan(3);
    await shot('live');
    await page.getByRole('button', { name: 'Pause' }).click();
    const paused = await rows.count();
    await page.waitForTimeout(800);
    expect(await rows.count()).toBe(paused);
    await page.getByText(/not shown/).waitFor({ timeout: 3000 });
    await page.getByRole('button', { name: 'Resume' }).click();
  });

  it('shows the hub page from /metrics', async () => {
    await page.getByRole('link', { name: 'Hub', exact: true }).click();
    await page.getByRole('heading', { name: 'Connections', exact: true }).waitFor({ timeout: 5000 });
    await expect.poll(() => page.locator('.card:has(h2:text-is("Connections"))').textContent(), { timeout: 5000 }).toContain('/devices/thermostat');
    await page.waitForTimeout(2200);
    await shot('hub');
  });

  it('overview screenshot, a phone-sized view, keyboard navigation, then sign-out', async () => {
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.locator('[data-testid=online-count]', { hasText: '4' }).waitFor({ timeout: 5000 });
    await page.locator('.alarms li', { hasText: 'door open' }).first().waitFor({ timeout: 5000 });
    await shot('overview');
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    await phone.context().addCookies(await page.context().cookies());
    await phone.goto(`${t.url}/devices/th-north-1`);
    await phone.locator('.chart[data-metric="temp"]').waitFor({ timeout: 5000 });
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot('phone-device', phone);
    await phone.close();

    // Keyboard: from the page's main region, Tab reaches the first site's link and Enter follows it.
    await page.focus('#main');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('href'))).toMatch(/^\/devices\?site=/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Devices' }).waitFor({ timeout: 5000 });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#token').waitFor({ timeout: 5000 });
    const res = await page.evaluate(async () => (await fetch('/api/sites')).status);
    expect(res).toBe(401);
  });
});
