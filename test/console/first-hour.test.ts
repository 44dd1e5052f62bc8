// What a newcomer met in the console, each in Chromium against a live hub:
// no console error (a missing favicon included) on any page; the Register
// dialog's patterns check the fields, a refused class creates nothing and
// names the field; a device that upgraded to WebSocket is shown on WebSocket;
// the 6 h and 7 days charts span the chosen range; the hub page's tables fit
// at 1400 px; no focus frame after a reload; "Latest alarms" come from the
// store, so they survive a reload.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { buildBundles } from '../browser/helpers.js';
import { ADMIN_TOKEN, adminApi, buildConsole, connectDevice, startTestHub, type SimDevice, type TestHub } from './hub-console.js';

const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const DAY = 86_400_000;

let consoleDir: string;
let t: TestHub;
let browser: Browser;
const devices: SimDevice[] = [];
const extraSockets: Socket[] = [];
const contexts: BrowserContext[] = [];

/** A signed-in page; every console message of type error, uncaught error and failed or 4xx/5xx response is collected. */
async function signedIn(viewport = { width: 1280, height: 800 }): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(`${t.url}/`);
  await page.fill('#token', ADMIN_TOKEN);
  await page.press('#token', 'Enter');
  await page.getByRole('heading', { name: 'Overview' }).waitFor({ timeout: 10_000 });
  return { page, problems };
}

beforeAll(async () => {
  await buildBundles();
  consoleDir = await buildConsole();
  t = await startTestHub(consoleDir);
  await adminApi(t.url, '/api/sites', { id: 'plant-north' });
  await adminApi(t.url, '/api/classes', { id: 'thermostat' });
  const tokens = new Map<string, string>();
  for (const id of ['th-1', 'th-2']) tokens.set(id, (await adminApi(t.url, '/api/devices', { id, classId: 'thermostat', siteId: 'plant-north' })).token);
  // th-1 like the console tests' devices (WebSocket only); it raises a "door open" alarm before any browser exists.
  devices.push(await connectDevice(t.url, 'thermostat', 'th-1', tokens.get('th-1')!));
  // th-2 as most clients connect: polling first, then the upgrade to WebSocket.
  const upgrading = ioClient(`${t.url}/devices/thermostat`, { auth: { deviceId: 'th-2', token: tokens.get('th-2') }, reconnection: false, forceNew: true });
  extraSockets.push(upgrading);
  await new Promise<void>((resolve, reject) => {
    upgrading.once('connect_error', reject);
    upgrading.io.engine.once('upgrade', () => resolve());
  });
  expect(upgrading.io.engine.transport.name).toBe('websocket');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, timeout: 30_000 });
}, 120_000);

afterAll(async () => {
  for (const d of devices) d.stop();
  for (const s of extraSockets) s.disconnect();
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await t?.close();
  if (consoleDir) await rm(consoleDir, { recursive: true, force: true });
});

describe('the console a newcomer meets', () => {
  it('logs no console error, failed request or 404 on any page, the favicon included', async () => {
    const { page, problems } = await signedIn();
    expect(await page.locator('link[rel=icon]').getAttribute('href')).toBe('/favicon.svg');
    const icon = await page.request.get(`${t.url}/favicon.svg`);
    expect(icon.status()).toBe(200);
    expect(icon.headers()['content-type']).toBe('image/svg+xml');
    // As a reader moves around: through the app's links (a full page load would abort the live link's requests).
    for (const [link, heading] of [['Devices', 'Devices'], ['th-1', /th-1/], ['Live stream', 'Live stream'], ['Hub', 'Hub'], ['Overview', 'Overview']] as const) {
      await page.getByRole('link', { name: link, exact: true }).first().click();
      await page.getByRole('heading', { name: heading, exact: typeof heading === 'string' }).first().waitFor({ timeout: 10_000 });
      await page.waitForTimeout(300);
    }
    await page.getByRole('button', { name: 'Register device' }).click();
    await page.getByRole('heading', { name: 'Register a device' }).waitFor();
    await page.waitForTimeout(300);
    expect(problems).toEqual([]);
  });

  it('checks the Register fields with their patterns; a refused class creates nothing and is named', async () => {
    const { page, problems } = await signedIn();
    await page.getByRole('button', { name: 'Register device' }).click();
    await page.fill('input[name=siteId]', 'plant-orphan');
    await page.fill('input[name=classId]', 'Bad Class');
    // The pattern compiles under the `v` flag and the browser applies it.
    expect(await page.locator('input[name=classId]').evaluate((el: HTMLInputElement) => el.validity.patternMismatch)).toBe(true);
    expect(await page.locator('input[name=siteId]').evaluate((el: HTMLInputElement) => el.validity.valid)).toBe(true);
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page.waitForTimeout(300);
    // With the browser's check off, the dialog's own check still refuses before any request.
    await page.locator('dialog form').evaluate((f: HTMLFormElement) => (f.noValidate = true));
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    const alert = page.locator('dialog [role=alert]');
    await alert.waitFor({ timeout: 5000 });
    expect(await alert.textContent()).toMatch(/^Class: /);
    expect(await alert.textContent()).not.toContain('body/');
    const sites = (await adminApi(t.url, '/api/sites')).items.map((s: { id: string }) => s.id);
    expect(sites).not.toContain('plant-orphan');
    expect(problems).toEqual([]);
  });

  it('shows WebSocket for a device that upgraded from polling, live and after a reload', async () => {
    const { page } = await signedIn();
    await page.getByRole('link', { name: 'Devices', exact: true }).click();
    const cell = page.locator('tr[data-device="th-2"] td').nth(4);
    await expect.poll(() => cell.textContent(), { timeout: 5000 }).toBe('websocket');
    await page.reload();
    await expect.poll(() => cell.textContent(), { timeout: 5000 }).toBe('websocket');
  });

  it('draws the 6 h and 7 days charts over the chosen range', async () => {
    const { page } = await signedIn();
    await page.goto(`${t.url}/devices/th-1`);
    const chart = page.locator('.chart[data-metric="temp"]');
    for (const [label, ms] of [['7 days', 7 * DAY], ['6 h', 6 * 3_600_000], ['15 min', 15 * 60_000]] as const) {
      await page.getByRole('button', { name: label, exact: true }).click();
      await page.locator(`.chart[data-metric="temp"][data-range="${ms}"]`).waitFor({ timeout: 10_000 });
      // data-range changes with the click, data-span once the range's data is drawn: wait for the span itself
      // (a lower bound alone passed at once going from 6 h down to 15 min, with the 6 h span still drawn).
      await expect
        .poll(async () => {
          const span = Number(await chart.getAttribute('data-span'));
          return span > ms * 0.99 && span < ms * 1.01 ? 'drawn' : span;
        }, { timeout: 5000 })
        .toBe('drawn');
      expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThan(0);
    }
  });

  it('fits every table of the hub page in its card at 1400 px', async () => {
    const { page } = await signedIn({ width: 1400, height: 900 });
    await page.goto(`${t.url}/hub`);
    await expect.poll(() => page.locator('.card:has(h2:text-is("Events in")) tbody tr').count(), { timeout: 8000 }).toBeGreaterThan(0);
    const overflows = await page.locator('.hub-grid .card').evaluateAll((cards) =>
      cards.flatMap((card) => {
        const box = card.getBoundingClientRect();
        const title = card.querySelector('h2')?.textContent;
        const out: string[] = [];
        if (card.scrollWidth > card.clientWidth) out.push(`${title}: card scrolls (${card.scrollWidth} > ${card.clientWidth})`);
        for (const el of Array.from(card.querySelectorAll('table, td, th'))) {
          const r = el.getBoundingClientRect();
          if (r.right > box.right + 0.5) out.push(`${title}: ${el.tagName} "${el.textContent}" ends at ${r.right} past the card's ${box.right}`);
        }
        return out;
      }),
    );
    expect(overflows).toEqual([]);
  });

  it('draws no focus frame after a reload', async () => {
    const { page } = await signedIn();
    await page.goto(`${t.url}/devices`);
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    await page.waitForTimeout(200);
    const focus = await page.evaluate(() => {
      const el = document.activeElement!;
      const style = getComputedStyle(el);
      return { tag: el.tagName, outline: style.outlineStyle === 'none' ? 'none' : `${style.outlineStyle} ${style.outlineWidth}` };
    });
    expect(focus).toEqual({ tag: 'BODY', outline: 'none' });
  });

  it('lists the alarms raised before sign-in under "Latest alarms", and after a reload', async () => {
    const { page } = await signedIn();
    const alarm = page.locator('.alarms li', { hasText: 'th-1 door open' });
    await alarm.waitFor({ timeout: 5000 });
    await page.reload();
    await alarm.waitFor({ timeout: 5000 });
    const api = await adminApi(t.url, '/api/alarms?limit=5');
    expect(api.items[0]).toMatchObject({ deviceId: 'th-1', kind: 'alarm', message: 'th-1 door open' });
  });
});
