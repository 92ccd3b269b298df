import fs from 'node:fs';
import path from 'node:path';
import { generateConsortium } from '@fedseg/imaging';
import { RoundEvents, type RoundEvent } from '@fedseg/coordinator';
import { RoundEvent as RoundEventSchema, type StudyConfigInput } from '@fedseg/protocol';
import { startFederation, type Federation } from '../support/federation';
import { CHROMIUM, launchBrowser, type TestBrowser } from './browser';

/**
 * The dashboard in Debian's chromium against a real coordinator and a real one-site federation (the agent a
 * child process): a wrong token is refused, the right one signs in, the study is started with the page's own
 * button, and rounds and their validation Dice appear without a reload, pushed by the /dashboard socket.
 */
// The browser globals the page-side callbacks touch (this project compiles without the DOM lib).
declare const sessionStorage: { length: number };
declare const window: object;
declare const document: { querySelector(selector: string): { textContent: string | null } | null };

const SCREENSHOTS = path.join(__dirname, '..', '..', 'docs');
const DASHBOARD_BUILT = fs.existsSync(
  path.join(__dirname, '..', '..', 'apps', 'dashboard', 'dist', 'index.html'),
);

const study: StudyConfigInput = {
  name: 'Liver lesions, dashboard e2e',
  model: {
    architecture: 'unet3d',
    inChannels: 1,
    numClasses: 3,
    baseFilters: 2,
    depth: 2,
    normalization: 'instance',
  },
  training: { epochs: 1, batchSize: 2, learningRate: 1e-2, patchSize: [16, 16, 16], seed: 3 },
  rounds: 2,
  minSites: 1,
  roundDeadlineMs: 60_000,
  siteWaitMs: 60_000,
};

// Outside CI a machine without Debian's chromium (or before `npm run build`) skips loudly; under CI=true the
// same case fails, since .ci/run installs chromium and `npm ci` builds the dashboard.
const missing = [
  ...(fs.existsSync(CHROMIUM) ? [] : [`${CHROMIUM} (apt-get install chromium)`]),
  ...(DASHBOARD_BUILT ? [] : ['apps/dashboard/dist (npm run build)']),
];
if (missing.length > 0 && process.env.CI) throw new Error(`the dashboard e2e needs ${missing.join(' and ')}`);
if (missing.length > 0) console.warn(`SKIPPING the dashboard e2e: missing ${missing.join(' and ')}`);
const run = missing.length === 0 ? describe : describe.skip;

run('the dashboard in a browser', () => {
  let fed: Federation;
  let browser: TestBrowser;
  let studyId: string;
  /** Enrollment and approval run the real fedseg-agent CLI (seconds); the first pages do not wait for them. */
  let siteReady: Promise<string>;
  /** When the coordinator announced each round's completion (ms since epoch), to time the page against it. */
  const completedAt = new Map<number, number>();
  const offContract: string[] = [];
  const started = Date.now();
  const phase = (what: string) => console.log(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);

  beforeAll(async () => {
    [fed, browser] = await Promise.all([
      startFederation({ postgres: false, prefix: 'fedseg-dash' }),
      launchBrowser(),
    ]);
    fed.coordinator.app.get(RoundEvents).subscribe((e: RoundEvent) => {
      if (e.type === 'round-completed') completedAt.set(e.round, Date.now());
      // What the real coordinator emits must be what the protocol's schema (and so the page) accepts.
      const parsed = RoundEventSchema.safeParse(e);
      if (!parsed.success) offContract.push(`${e.type}: ${parsed.error.message}`);
    });
    studyId = await fed.createStudy(study);
    phase('coordinator and browser up, study created');
    siteReady = (async () => {
      const [{ siteDirs }] = await Promise.all([
        generateConsortium({
          outDir: path.join(fed.work, 'sites'),
          sites: 1,
          casesPerSite: 4,
          shape: [16, 16, 16],
          seed: 5,
        }),
        fed.enroll(['site-1']),
      ]);
      await fed.approve(studyId, ['site-1']);
      phase('site enrolled and approved');
      return siteDirs[0]!;
    })();
    siteReady.catch(() => undefined); // awaited (and reported) in the test that needs it
  });

  afterAll(async () => {
    await siteReady?.catch(() => undefined);
    await browser?.close();
    await fed?.close();
    phase('closed');
  });

  it('refuses a wrong token and shows only the sign-in page', async () => {
    const { page } = browser;
    await page.goto(fed.url + '/');
    await page.getByLabel('API token').fill(`fsat_${'A'.repeat(43)}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('Unknown API token').waitFor();
    expect(await page.getByRole('link', { name: 'Studies' }).count()).toBe(0);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    phase('wrong token refused');
  });

  it('signs in, starts the study, and shows rounds and Dice live, within 5 s of the coordinator', async () => {
    const { page } = browser;
    await page.getByLabel('API token').fill(fed.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const row = page.locator(`tr[data-study="${studyId}"]`);
    await row.getByText(study.name).waitFor();
    await page.getByText('● live').waitFor();
    await page.evaluate(() => Object.assign(window, { fedsegNoReload: true }));
    await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-studies.png') });
    phase('signed in, study listed');

    const dataDir = await siteReady;
    await row.getByRole('button', { name: 'Start' }).click();
    await row.getByText('running').waitFor(); // the study-status event, and the reply
    fed.spawn('site-1', dataDir, ['--backend', 'cpu', '--val-fraction', '0.25']);

    await row.getByRole('link', { name: study.name }).click();
    const diceOf = (round: number) => page.locator(`tr[data-round="${round}"] td.dice`);
    for (const round of [1, 2]) {
      await page.waitForFunction(
        (r) => /\d/.test(document.querySelector(`tr[data-round="${r}"] td.dice`)?.textContent ?? ''),
        round,
        { timeout: 90_000, polling: 50 },
      );
      const shownAt = Date.now();
      expect(await diceOf(round).textContent()).toMatch(/^0\.\d{4}$/);
      const lagMs = shownAt - completedAt.get(round)!;
      phase(`round ${round}: validation Dice on the page ${lagMs} ms after the coordinator announced it`);
      expect(lagMs).toBeLessThan(5_000);
    }
    await page.getByText('2 of 2 rounds done').waitFor();
    expect(await page.locator('svg[data-points="2"]').count()).toBe(1);
    expect(await page.evaluate(() => 'fedsegNoReload' in window)).toBe(true);
    expect(offContract).toEqual([]);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-study.png'), fullPage: true });

    await page.getByRole('link', { name: 'Sites' }).click();
    await page.getByRole('cell', { name: 'site-1' }).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-sites.png') });
    phase('sites page');
  });

  it('signs out; a site-admin sees the study but no steering and no other sites', async () => {
    const { page } = browser;
    const created = await fed.post('/users', {
      name: 'site-1-admin',
      role: 'site_admin',
      siteName: 'site-1',
    });
    const token = (created.json as { token: string }).token;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('site-1-admin (site_admin)').waitFor();
    await page.locator(`tr[data-study="${studyId}"]`).getByText(study.name).waitFor();
    expect(await page.getByRole('columnheader', { name: 'Actions' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Sites' }).count()).toBe(0);
    phase('site-admin view');
  });
});
