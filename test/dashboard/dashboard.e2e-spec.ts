import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { generateConsortium } from '@fedseg/imaging';
import { RoundEvents, type RoundEvent } from '@fedseg/coordinator';
import { RoundEvent as RoundEventSchema, type StudyConfigInput } from '@fedseg/protocol';
import { startFederation, type Federation } from '../support/federation';
import { CHROMIUM, launchBrowser, type TestBrowser } from './browser';

/**
 * The dashboard in Debian's chromium against a real coordinator and a real one-site federation (the agent a
 * child process): a wrong token is refused, the right one signs in, a study is created through the form (a
 * field the browser refuses, then one the server refuses, each shown on its field), started with the page's
 * own button, and rounds and their validation Dice appear without a reload, pushed by the /dashboard socket.
 */
// The browser globals the page-side callbacks touch (this project compiles without the DOM lib).
declare const sessionStorage: { length: number };
declare const window: object;
declare class MutationObserver {
  constructor(callback: () => void);
  observe(target: object, options: { childList: boolean; subtree: boolean }): void;
}
declare const document: {
  body: object;
  activeElement: { id: string } | null;
  querySelectorAll(selector: string): Iterable<{ getAttribute(name: string): string | null }>;
  querySelector(
    selector: string,
  ): { textContent: string | null; getAttribute(name: string): string | null } | null;
};

const SCREENSHOTS = path.join(__dirname, '..', '..', 'docs');
const DASHBOARD_BUILT = fs.existsSync(
  path.join(__dirname, '..', '..', 'apps', 'dashboard', 'dist', 'index.html'),
);

/** What the form is filled with (label -> typed text); the rest keeps the form's defaults. */
const study = {
  name: 'Liver lesions, dashboard e2e',
  fields: {
    Rounds: '3',
    'Round deadline (s)': '60',
    'Classes (with background)': '3',
    'Base filters': '2',
    Depth: '2',
    'Learning rate': '0.01',
    'Patch size (voxels)': '16x16x16',
  },
  /** Central DP, mild enough for a tiny model to learn in three rounds: epsilon ~20 of the budget of 50. */
  privacy: { 'Clip norm C': '0.5', 'Noise multiplier z': '0.5', 'Epsilon budget': '50' },
};
const SITES = ['site-1', 'site-2'];
/** A study created over REST for the steering buttons; no site approves it, so it never trains. */
const steered: StudyConfigInput = { name: 'Steered by buttons', rounds: 50, siteWaitMs: 600_000 };

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
  /** Each site's generated data directory, once enrolled. */
  let siteData: string[];
  /** Enrollment runs the real fedseg-agent CLI (seconds); the first pages do not wait for it. */
  let siteReady: Promise<string[]>;
  /** When the coordinator announced each round's completion (ms since epoch), to time the page against it. */
  const completedAt = new Map<number, number>();
  /** When the coordinator announced site-1's metrics for each round (its last report of that round). */
  const site1MetricsAt = new Map<number, number>();
  const siteIds: Record<string, string> = {};
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
      if (e.type === 'metrics-received' && e.siteId === siteIds['site-1'])
        site1MetricsAt.set(e.round, Date.now());
      // What the real coordinator emits must be what the protocol's schema (and so the page) accepts.
      const parsed = RoundEventSchema.safeParse(e);
      if (!parsed.success) offContract.push(`${e.type}: ${parsed.error.message}`);
    });
    phase('coordinator and browser up');
    siteReady = (async () => {
      const [{ siteDirs }] = await Promise.all([
        generateConsortium({
          outDir: path.join(fed.work, 'sites'),
          sites: SITES.length,
          casesPerSite: 4,
          shape: [16, 16, 16],
          seed: 5,
        }),
        fed.enroll(SITES),
      ]);
      for (const site of await fed.prisma.site.findMany()) siteIds[site.name] = site.id;
      phase('sites enrolled');
      return siteDirs;
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

  it('signs in and creates a study through the form, with refused fields shown on the fields', async () => {
    const { page } = browser;
    await page.getByLabel('API token').fill(fed.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('No studies yet.').waitFor();
    await page.getByText('● live').waitFor();
    const dataDirs = await siteReady; // the form lists enrolled sites to invite
    await page.getByRole('link', { name: 'New study' }).click();
    await page.getByLabel('Name').fill(study.name);
    for (const [label, value] of Object.entries(study.fields)) await page.getByLabel(label).fill(value);
    await page.getByLabel('Differential privacy').selectOption('central');
    for (const [label, value] of Object.entries(study.privacy)) await page.getByLabel(label).fill(value);
    for (const site of SITES) await page.getByLabel(site).check();

    // Refused in the browser by the protocol's ModelConfig (depth <= 6): nothing is sent.
    await page.getByLabel('Depth').fill('9');
    await page.getByRole('button', { name: 'Create study' }).click();
    await page.locator('#f-depth-msg').getByText(/<=6/).waitFor();
    expect(await page.getByLabel('Depth').getAttribute('aria-invalid')).toBe('true');
    // Keyboard users land on the refused field.
    await page.waitForFunction(() => document.activeElement?.id === 'f-depth');
    expect(await fed.prisma.study.count()).toBe(0);

    // Refused by the server (two invited sites, three wanted per round): its 400 lands on the sites fieldset.
    await page.getByLabel('Depth').fill('2');
    await page.getByLabel('Minimum sites per round').fill('3');
    await page.getByRole('button', { name: 'Create study' }).click();
    await page.locator('#f-sites-msg').getByText('fewer allowed sites than minSites').waitFor();
    expect(await page.locator('#f-depth-msg').textContent()).toBe('');
    expect(await fed.prisma.study.count()).toBe(0);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-new-study.png'), fullPage: true });

    await page.getByLabel('Minimum sites per round').fill('2');
    // A rule across fields: secure aggregation's threshold above minSites (the server's, shown on minSites).
    await page.getByLabel('Secure aggregation').check();
    await page.getByLabel('Shamir threshold t').fill('3');
    await page.getByRole('button', { name: 'Create study' }).click();
    await page
      .locator('#f-minSites-msg')
      .getByText(/minSites must be at least/)
      .waitFor();
    expect(await page.locator('#f-sites-msg').textContent()).toBe('');
    expect(await fed.prisma.study.count()).toBe(0);
    await page.getByLabel('Secure aggregation').uncheck();
    await page.getByRole('button', { name: 'Create study' }).click();
    await page.getByRole('heading', { name: study.name }).waitFor();
    studyId = /#\/studies\/([0-9a-f-]{36})$/.exec(page.url())![1]!;
    const row = await fed.prisma.study.findUniqueOrThrow({ where: { id: studyId } });
    expect(row.status).toBe('draft');
    expect(row.config).toMatchObject({
      rounds: 3,
      minSites: 2,
      roundDeadlineMs: 60_000,
      sites: SITES,
      model: { numClasses: 3, baseFilters: 2, depth: 2 },
      training: { learningRate: 0.01, patchSize: [16, 16, 16] },
      privacy: { mode: 'central', clipNorm: 0.5, noiseMultiplier: 0.5, epsilonBudget: 50 },
    });
    await fed.approve(studyId, SITES);
    phase('study created through the form and approved');
    siteData = dataDirs;
  });

  it('starts the study from its page; metrics, rounds and the privacy budget appear live, within 5 s', async () => {
    const { page } = browser;
    await page.evaluate(() => Object.assign(window, { fedsegNoReload: true }));
    // The current round's per-site progress rows come and go within a round: note any that ever appears.
    await page.evaluate(() => {
      const seen = new Set<string>();
      new MutationObserver(() => {
        for (const row of document.querySelectorAll('table.progress tbody tr progress'))
          seen.add(row.getAttribute('max') ?? '');
        Object.assign(window, { fedsegProgressSeen: [...seen] });
      }).observe(document.body, { childList: true, subtree: true });
    });
    await page.getByRole('button', { name: 'Start' }).click();
    await page.locator('.summary').getByText('running').waitFor(); // the study-status event, and the reply
    for (const [i, site] of SITES.entries())
      fed.spawn(site, siteData[i]!, ['--backend', 'cpu', '--val-fraction', '0.25']);

    const diceOf = (round: number) => page.locator(`tr[data-round="${round}"] td.dice`);
    const site1Dice = `[data-chart="Validation Dice"] [data-series="${siteIds['site-1']}"]`;
    for (const round of [1, 2, 3]) {
      // A site's reported metric on the open page: its point in the per-site Dice line.
      await page.waitForFunction(
        ([selector, r]) => Number(document.querySelector(selector)?.getAttribute('data-points') ?? 0) >= r,
        [site1Dice, round] as const,
        { timeout: 90_000, polling: 50 },
      );
      const metricLagMs = Date.now() - site1MetricsAt.get(round)!;
      phase(
        `round ${round}: site-1's Dice point on the page ${metricLagMs} ms after it reached the coordinator`,
      );
      expect(metricLagMs).toBeLessThan(5_000);
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
    await page.getByText('3 of 3 rounds done').waitFor();
    // Every chart: the study-level line and one per site, three rounds each (Dice, HD95, ASSD may skip a
    // round whose masks were all empty; loss never does).
    for (const chart of ['Train loss', 'Validation Dice', 'Validation HD95', 'Validation ASSD']) {
      const lines = page.locator(`[data-chart="${chart}"] [data-series]`);
      expect(await lines.count()).toBe(3);
    }
    for (const key of ['global', siteIds['site-1'], siteIds['site-2']])
      expect(
        await page.locator(`[data-chart="Train loss"] [data-series="${key}"]`).getAttribute('data-points'),
      ).toBe('3');
    // The timeline's uplink is the bytes the round's updates arrived with.
    for (const round of [1, 2, 3]) {
      const updates = await fed.prisma.siteUpdate.findMany({ where: { round: { studyId, index: round } } });
      expect(updates).toHaveLength(2);
      const kib = `${(updates.reduce((n, u) => n + u.wireBytes, 0) / 1024).toFixed(1)} KiB`;
      expect(await page.locator(`tr[data-round="${round}"] td.uplink`).textContent()).toBe(kib);
    }
    // The budget meter shows what the coordinator stored.
    const row = await fed.prisma.study.findUniqueOrThrow({ where: { id: studyId } });
    expect(row.epsilonSpent).toBeGreaterThan(0);
    expect(Number(await page.locator('meter#epsilon').getAttribute('value'))).toBeCloseTo(
      row.epsilonSpent!,
      9,
    );
    await page.getByText(`ε ${row.epsilonSpent!.toFixed(3)} of 50.00 spent`).waitFor();
    expect(await page.evaluate(() => 'fedsegNoReload' in window)).toBe(true);
    // Progress bars showed while sites trained (max = epochs x steps = 1 x 2 for 3 cases, batch 2).
    expect(
      await page.evaluate(() => (window as { fedsegProgressSeen?: string[] }).fedsegProgressSeen),
    ).toEqual(['2']);
    expect(offContract).toEqual([]);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-study.png'), fullPage: true });
  });

  it('lists the checkpoints with their sha256 and downloads one whose bytes match', async () => {
    const { page } = browser;
    await page.getByRole('link', { name: 'Models and downloads' }).click();
    const stored = await fed.prisma.checkpoint.findMany({
      where: { studyId },
      orderBy: { roundIndex: 'asc' },
    });
    expect(stored.map((c) => c.roundIndex)).toEqual([0, 1, 2, 3]);
    for (const c of stored)
      expect(await page.locator(`tr[data-checkpoint="${c.roundIndex}"] code.sha`).getAttribute('title')).toBe(
        c.sha256,
      );
    const dice = await fed.prisma.metric.findFirstOrThrow({
      where: { studyId, roundIndex: 3, siteId: null, split: 'val', name: 'dice' },
    });
    expect(await page.locator('tr[data-checkpoint="3"] td').nth(3).textContent()).toBe(dice.value.toFixed(4));
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download round 3' }).click(),
    ]);
    const saved = fs.readFileSync((await download.path())!);
    expect(crypto.createHash('sha256').update(saved).digest('hex')).toBe(stored[3]!.sha256);
    expect(download.suggestedFilename()).toBe('fedseg-liver-lesions-dashboard-e2e-round-3.fsw');
    await page.getByText('SHA-256 checked').waitFor();
    phase('models page, download checked');

    // The viewer: the coordinator segments its own phantom with round 3's model; NiiVue draws it in WebGL2.
    await page.getByRole('button', { name: 'View round 3 on the demo case' }).click();
    await page.locator('[data-viewer="ready"]').waitFor({ timeout: 60_000 });
    const shown = await page.locator('[data-demo-dice] li').allTextContents();
    expect(shown.slice(0, 2).map((t) => t.replace(/([\d.]+|—)$/, 'x'))).toEqual([
      'organ: Dice x',
      'lesion: Dice x',
    ]);
    // What the page shows is what the coordinator computed for that checkpoint.
    const demo = await fed.get(`/studies/${studyId}/demo-case?round=3`);
    const labels = (demo.json as { labels: Array<{ dice: number | null }>; checkpointSha256: string }).labels;
    expect(shown[0]).toBe(`organ: Dice ${labels[0]!.dice === null ? '—' : labels[0]!.dice.toFixed(3)}`);
    expect((demo.json as { checkpointSha256: string }).checkpointSha256).toBe(stored[3]!.sha256);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-models.png'), fullPage: true });
    phase('viewer on the demo case');
  });

  it('starts, pauses, resumes and stops a study with its buttons; the database follows', async () => {
    const { page } = browser;
    const id = await fed.createStudy(steered);
    await page.getByRole('link', { name: 'Studies', exact: true }).click();
    const row = page.locator(`tr[data-study="${id}"]`);
    const statusOf = async () => (await fed.prisma.study.findUniqueOrThrow({ where: { id } })).status;
    await row.getByRole('button', { name: 'Start' }).click();
    await row.getByText('running').waitFor();
    expect(await statusOf()).toBe('running');
    await row.getByRole('button', { name: 'Pause' }).click();
    await row.getByText('paused', { exact: true }).waitFor();
    expect(await statusOf()).toBe('paused');
    await row.getByRole('button', { name: 'Resume' }).click();
    await row.getByText('running').waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-studies.png') });
    await row.getByRole('button', { name: 'Stop' }).click();
    await row.getByRole('button', { name: 'Confirm stop' }).click();
    await row.getByText('stopped by a user after 0 of 50 rounds').waitFor();
    expect(await statusOf()).toBe('completed');
    expect(await row.getByRole('button').count()).toBe(0); // a completed study takes no more steering
    await page.locator(`tr[data-study="${studyId}"]`).getByText('completed').waitFor();
    phase('steered by buttons');
  });

  it('shows sites with case counts and plan approvals; an admin issues a token and revokes a site', async () => {
    const { page } = browser;
    // A draft study both sites are invited to: site-1 approves, the plan changes, then only site-2 approves.
    const draft = await fed.createStudy({ name: 'Plan under review', rounds: 5, sites: SITES });
    await fed.approve(draft, ['site-1']);
    const changed = await fetch(`${fed.url}/studies/${draft}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${fed.adminToken}` },
      body: JSON.stringify({ name: 'Plan under review', rounds: 5, sites: SITES, training: { epochs: 2 } }),
    });
    expect(changed.status).toBe(200);
    await fed.approve(draft, ['site-2']);

    await page.getByRole('link', { name: 'Sites', exact: true }).click();
    // Case counts: the connected agents announce them, and they agree with what each site reported in its
    // rounds (its last update's samples, its last evaluation's cases).
    for (const site of SITES) {
      const update = await fed.prisma.siteUpdate.findFirstOrThrow({
        where: { siteId: siteIds[site] },
        orderBy: { receivedAt: 'desc' },
      });
      const cases = await fed.prisma.metric.findFirstOrThrow({
        where: { siteId: siteIds[site], split: 'val', name: 'cases' },
        orderBy: { createdAt: 'desc' },
      });
      await page
        .locator(`tr[data-site="${site}"] td.dataset`)
        .getByText(`${update.samples} / ${cases.value}`)
        .waitFor();
      expect(await page.locator(`tr[data-site="${site}"] td.agent`).textContent()).toMatch(/^\d+\.\d+\.\d+/);
    }
    const approvals = page.locator(`tr[data-approvals="${draft}"]`);
    await approvals
      .locator('td[data-site="site-1"]')
      .getByText(/^older plan [0-9a-f]{8}$/)
      .waitFor();
    await approvals.locator('td[data-site="site-2"]').getByText('approved').waitFor();

    // A token for a name the schema refuses: the server's 400 on the field; then a good one, shown once.
    await page.getByLabel('Site name').fill('bad name!');
    await page.getByRole('button', { name: 'Issue token' }).click();
    await page
      .locator('#t-site-msg')
      .getByText(/letters, digits/)
      .waitFor();
    await page.getByLabel('Site name').fill('site-3');
    await page.getByRole('button', { name: 'Issue token' }).click();
    const command = await page.locator('.issued code').textContent();
    expect(command).toMatch(
      /^fedseg-agent enroll --coordinator http:\/\/127\.0\.0\.1:\d+ --site site-3 --token fset_[\w-]{43}$/,
    );
    await page.locator('tr[data-token-site="site-3"]').getByText('pending').waitFor();
    for (const site of SITES) await page.locator(`tr[data-token-site="${site}"]`).getByText('used').waitFor();
    expect(await fed.prisma.enrollmentToken.count({ where: { siteName: 'site-3', usedAt: null } })).toBe(1);
    // The token is a live secret of this throwaway coordinator; the committed screenshot masks it all the same.
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'dashboard-sites.png'),
      fullPage: true,
      mask: [page.locator('.issued code')],
    });

    const site2 = page.locator('tr[data-site="site-2"]');
    await site2.getByRole('button', { name: 'Revoke' }).click();
    await site2.getByRole('button', { name: 'Confirm revoke' }).click();
    await site2.getByText('revoked').waitFor();
    const row = await fed.prisma.site.findUniqueOrThrow({ where: { id: siteIds['site-2'] } });
    expect(row.revokedAt).not.toBeNull();
    expect(await page.locator('tr[data-site="site-1"]').getByText('revoked').count()).toBe(0);
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
    // Its study page: the study-level line and its own site's, never site-2's (the server filters, and the
    // socket sends it no other site's events), and no steering.
    await page.locator(`tr[data-study="${studyId}"]`).getByRole('link', { name: study.name }).click();
    const dice = page.locator('[data-chart="Validation Dice"] [data-series]');
    await page.locator(`[data-chart="Validation Dice"] [data-series="${siteIds['site-1']}"]`).waitFor();
    expect(await dice.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-series')))).toEqual([
      'global',
      siteIds['site-1'],
    ]);
    await page.locator('[data-chart="Validation Dice"] .legend').getByText('your site').waitFor();
    expect(await page.content()).not.toContain(siteIds['site-2']);
    expect(await page.getByRole('button', { name: 'Pause' }).count()).toBe(0);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-study-site-admin.png'), fullPage: true });
    await page.getByRole('link', { name: 'Studies', exact: true }).click();
    expect(await page.getByRole('link', { name: 'Sites' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'New study' }).count()).toBe(0);
    await page.goto(fed.url + '/#/studies/new'); // typed by hand: the list, not the form
    await page.getByRole('heading', { name: 'Studies' }).waitFor();
    expect(await page.getByRole('button', { name: 'Create study' }).count()).toBe(0);
    phase('site-admin view');
  });
});
