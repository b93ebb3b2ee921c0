/**
 * The dashboard page in headless Chromium (Debian's chromium driven by playwright-core): signed in
 * with a municipality's key it draws every chart with data from the real InfluxDB, shows only that
 * municipality, and a screenshot is saved to test-results/kpi-dashboard.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore } from '../../shared/auth/api-keys.ts';
import { createLogger } from '../../shared/logging.ts';
import { DeviceRegistry } from '../../shared/registry/device-registry.ts';
import { buildKpiApp, type KpiApp } from '../../services/kpi-api/app.ts';
import { vehiclePrivacyIn } from '../../services/kpi-api/vehicle-privacy.ts';
import { AlarmNotes, defaultAlarmNotesPath } from '../../services/kpi-api/alarm-notes.ts';
import { Kpis } from '../../services/kpi-api/kpis.ts';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';
import { expectMatchesTruth, simulate } from '../support/verify.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('dashboard page in headless Chromium', () => {
  let p: Pipeline;
  let app: KpiApp;
  let browser: Browser;
  let url: string;
  let kalamataKey: string;

  beforeAll(async () => {
    p = await startPipeline();
    // Readings of the last hours (the page shows the last 7 days by default).
    const simStart = Math.floor((Date.now() - 6 * 3_600_000) / 900_000) * 900_000;
    const summary = await simulate(p, { devices: 30, municipalities: ['kalamata', 'orestiada'], rate: 40, count: 200, batch: 1, seed: 99, simStart, simStepMs: 60_000 });
    await expectMatchesTruth(p, summary);
    const devices = new DeviceRegistry(p.gw.registryPath);
    const keys = new ApiKeyStore(join(p.env.DATA_DIR!, 'api-keys.json'));
    kalamataKey = keys.add({ municipality: 'kalamata', admin: false }).key;
    app = await buildKpiApp({
      kpis: new Kpis(p.telemetry, () => devices.list()),
      edges: p.telemetry,
      keys,
      notes: new AlarmNotes(defaultAlarmNotesPath(p.env.DATA_DIR!)),
      privacy: vehiclePrivacyIn(p.env.DATA_DIR!),
      log: createLogger('kpi-page-test', 'silent'),
      registry: new Registry(),
      municipalities: () => ['kalamata', 'orestiada'],
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // No background connections: this machine's network is closed and Chromium would keep trying.
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await p?.close();
  });

  it('asks for a key, then draws every chart with data for the signed-in municipality only', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.locator('#signin').waitFor({ state: 'visible' });
    await page.fill('#key', 'sck_not-a-real-key');
    await page.click('#signin-form button');
    await expect.poll(() => page.textContent('#signin-error')).toMatch(/not accepted/);

    await page.fill('#key', kalamataKey);
    await page.click('#signin-form button');
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 30_000 });
    expect(await page.textContent('#tenant')).toContain('kalamata');
    for (const id of ['chart-hourly', 'chart-energy', 'chart-peak', 'chart-fleet', 'chart-parking']) {
      const points = Number(await page.getAttribute(`#${id}`, 'data-points'));
      expect(points, `${id} has data`).toBeGreaterThan(0);
      // Chart.js drew something: the canvas is not blank.
      // (runs in the page: DOM types are not in this project's compile settings)
      const inked = await page.$eval(`#${id}`, (c) => {
        const canvas = c as unknown as { width: number; height: number; getContext(t: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
        return n;
      });
      expect(inked, `${id} is drawn`).toBeGreaterThan(1000);
    }
    expect(Number((await page.textContent('#tile-kwh'))!.replace(/,/g, ''))).toBeGreaterThan(0);
    const text = await page.textContent('body');
    expect(text).not.toContain('orestiada-');
    // The municipality selector offers only the key's own municipality.
    expect(await page.$$eval('#municipality option', (os) => os.map((o) => (o as unknown as { value: string }).value))).toEqual(['kalamata']);
    expect(errors).toEqual([]);
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/kpi-dashboard.png', fullPage: true });
  });
});
