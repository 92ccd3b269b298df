import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DemoCaseView, StudyView } from '@fedseg/protocol';
import { CoordinatorConfig } from '../config/coordinator-config';
import { startCoordinator } from '../coordinator';

/**
 * Run as its own process by coordinator-process.spec.ts (jest's module registry is not a process's): boots a
 * coordinator on a fresh embedded database, lists the modules its process has loaded, creates and starts a
 * study (round 0's weights), asks for the viewer's demo case (tfjs inference), lists them again, and prints
 * one JSON line: `{ afterBoot, afterDemoCase, demoCaseStatus, demoCaseLabels }`, each list holding the
 * loaded files under node_modules/@tensorflow and libs/models (repository-relative).
 */
const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');

function loadedModelFiles(): string[] {
  return Object.keys(require.cache)
    .map((file) => path.relative(REPO_ROOT, fs.realpathSync(file)))
    .filter((file) => file.includes(`@tensorflow${path.sep}`) || file.startsWith(path.join('libs', 'models')))
    .sort();
}

async function main(): Promise<void> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-lean-'));
  const coordinator = await startCoordinator(
    CoordinatorConfig.parse({ port: 0, host: '127.0.0.1', homeDir: home, logLevel: 'silent' }),
  );
  try {
    const afterBoot = loadedModelFiles();
    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${coordinator.bootstrapAdminToken}`,
    };
    const created = await fetch(`${coordinator.url}/studies`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        name: 'lean',
        rounds: 1,
        siteWaitMs: 60_000,
        model: { architecture: 'attention-unet3d', numClasses: 3, baseFilters: 2, depth: 2 },
        training: { patchSize: [16, 16, 16] },
      }),
    });
    const studyId = StudyView.parse(await created.json()).id;
    // Starting commits round 0 (the initial model) before any site is asked to train; none is connected.
    await fetch(`${coordinator.url}/studies/${studyId}/start`, { method: 'POST', headers });
    let demoCase = await fetch(`${coordinator.url}/studies/${studyId}/demo-case?round=0`, { headers });
    for (let tries = 0; demoCase.status === 409 && tries < 200; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      demoCase = await fetch(`${coordinator.url}/studies/${studyId}/demo-case?round=0`, { headers });
    }
    const view = demoCase.ok ? DemoCaseView.parse(await demoCase.json()) : undefined;
    console.log(
      JSON.stringify({
        afterBoot,
        afterDemoCase: loadedModelFiles(),
        demoCaseStatus: demoCase.status,
        demoCaseLabels: view?.labels.map((l) => l.name) ?? [],
      }),
    );
  } finally {
    await coordinator.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
