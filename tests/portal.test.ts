import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSwarmKey } from '../discovery/index.ts';
import { PORTAL_BUILD_DIR } from '../frontend-backend/index.ts';
import type { ArchipelProcess } from './support/archipel-process.ts';
import { captureAtBothWidths, launchBrowser, openPage } from './support/browser.ts';
import { eventually } from './support/eventually.ts';
import { ok, startFederationNode, type FederationNode } from './support/federation-node.ts';
import { startTestOidcProvider, type TestOidcProvider } from './support/oidc-provider.ts';

/**
 * The web portal as its users and operators use it: `archipel up` nodes in their own processes, the
 * portal they serve driven in Debian's headless Chromium. Every page visited is scanned for
 * accessibility and photographed at 1280 and 390 px (artifacts/portal/).
 */

const root = mkdtempSync(path.join(tmpdir(), 'archipel-portal-'));
const running: ArchipelProcess[] = [];
const PASSWORD = 'correct horse battery';
let swarmKey = '';
let alpha: FederationNode;
let browser: Browser;
let provider: TestOidcProvider;
// The provider's accounts (subject → claims): one in the genomics project, one in none.
const accounts = new Map<string, Record<string, unknown>>([
  ['carol-sub', { preferred_username: 'carol', name: 'Carol', projects: ['genomics'] }],
  ['dave-sub', { preferred_username: 'dave', name: 'Dave' }],
]);

/** A free port of 127.0.0.1: the provider must know the node's callback address before the node starts. */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });

const SHOUT = `cwlVersion: v1.2
class: CommandLineTool
doc: Copies a text file in upper case.
baseCommand: [tr, a-z, A-Z]
stdin: $(inputs.text.path)
inputs:
  text:
    type: File
    doc: The text to shout.
stdout: shouted.txt
outputs:
  out:
    type: stdout
`;

// Two steps, the second reading the first's output: one edge in the DAG.
const WORKFLOW = `cwlVersion: v1.2
class: Workflow
inputs:
  message: string
outputs:
  shouted:
    type: File
    outputSource: shout/out
steps:
  say:
    run:
      class: CommandLineTool
      baseCommand: echo
      inputs:
        message: {type: string, inputBinding: {position: 1}}
      stdout: said.txt
      outputs:
        out: {type: stdout}
    in: {message: message}
    out: [out]
  shout:
    run:
      class: CommandLineTool
      baseCommand: [tr, a-z, A-Z]
      stdin: $(inputs.text.path)
      inputs:
        text: File
      stdout: shouted.txt
      outputs:
        out: {type: stdout}
    in: {text: say/out}
    out: [out]
`;

/** The first sign-in of a node's operator: with the bootstrap admin's token. */
async function signInWithToken(page: Page, node: FederationNode) {
  await page.goto(`${node.url}/peers`);
  await page.getByText('Sign in with an API token').click();
  await page.getByLabel(/^API token/).fill(node.token);
  await page.getByRole('button', { name: 'Sign in with the token' }).click();
  await page.getByRole('heading', { name: 'Peers' }).waitFor();
}

/** A link of the main navigation. */
const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });

async function signIn(page: Page, url: string) {
  await page.goto(`${url}/`);
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Catalog' }).waitFor();
}

// The nodes run on their embedded database whatever DATABASE_URL says, so the PostgreSQL pass of CI
// would repeat this suite unchanged: it runs in the embedded pass only (CI time, ARCHITECTURE.md §CI).
describe.skipIf(process.env.DATABASE_URL !== undefined)('the web portal', () => {
  beforeAll(async () => {
    expect(existsSync(path.join(PORTAL_BUILD_DIR, 'index.html')), 'the portal is not built: run `npm run build`').toBe(true);
    swarmKey = path.join(root, 'swarm.key');
    writeFileSync(swarmKey, generateSwarmKey(), { mode: 0o600 });
    const port = await freePort();
    provider = await startTestOidcProvider({ clientId: 'archipel-portal', clientSecret: 'portal-test-secret', redirectUri: `http://127.0.0.1:${port}/api/v1/auth/oidc/callback`, accounts });
    const config = path.join(root, 'alpha.yml');
    writeFileSync(
      config,
      `oidc:\n  issuer: ${provider.issuer}\n  clientId: archipel-portal\n  clientSecret: portal-test-secret\n  scopes: openid profile projects\n  displayName: Test identity provider\n  projectsClaim: projects\n`,
    );
    [alpha, browser] = await Promise.all([startFederationNode(root, running, 'alpha', swarmKey, ['--http-port', String(port), '--config', config]), launchBrowser()]);
    ok(await alpha.call('PATCH', '/users/admin', { password: PASSWORD }));
    ok(await alpha.call('POST', '/projects', { name: 'genomics' }), 201);
    ok(await alpha.call('POST', '/catalog/entries', { kind: 'service', name: 'Shout service', description: 'Upper-cases a text file.', tags: ['text'], visibility: 'public', spec: { image: 'debian:12', cwl: SHOUT } }), 201);
    ok(await alpha.call('POST', '/catalog/entries', { kind: 'data', name: 'Reef survey', description: 'Not a service.', visibility: 'private', spec: { source: { type: 'directory', path: root } } }), 201);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await provider?.close();
    await Promise.all(running.map((p) => p.stop()));
    rmSync(root, { recursive: true, force: true });
  });

  it('a user logs in, finds a service, runs it on an uploaded file, watches it succeed and downloads the result', { timeout: 180_000 }, async () => {
    const page = await openPage(browser, { acceptDownloads: true });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));

    await page.goto(`${alpha.url}/runs`);
    await page.waitForURL(/\/login$/);
    await captureAtBothWidths(page, 'portal', 'login');
    // A wrong password is answered in words on the form.
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password', { exact: true }).fill('wrong');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/invalid user name or password|wrong|invalid/i);
    // Again from the keyboard alone: Tab from the user name to the password, Enter to send.
    await page.getByLabel('Password', { exact: true }).fill('');
    await page.getByLabel('User name').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    // Back where the user was going.
    await page.getByRole('heading', { name: 'Runs' }).waitFor();

    await nav(page, 'Catalog').click();
    await page.getByLabel('Search').fill('shout');
    const result = page.locator('.result', { hasText: 'Shout service' });
    await result.waitFor();
    await expect.poll(() => page.locator('.result').count()).toBe(1);
    expect(await result.textContent()).toContain('alpha (this cluster)');
    // The kind filter: no data entry is called "shout".
    await page.getByLabel('Search').fill('');
    await page.getByLabel('Kind').selectOption('data');
    await page.locator('.result', { hasText: 'Reef survey' }).waitFor();
    await expect.poll(() => page.locator('.result', { hasText: 'Shout service' }).count()).toBe(0);
    await page.getByLabel('Kind').selectOption('');
    await page.getByLabel('Search').fill('shout');
    await result.waitFor();
    await captureAtBothWidths(page, 'portal', 'catalog');

    await result.getByRole('link', { name: 'Shout service' }).click();
    await page.getByRole('heading', { name: 'Run this service' }).waitFor();
    expect(await page.getByText('The text to shout.').count()).toBe(1);
    // A File may also come from a data entry the user may see: the location field offers them.
    await expect.poll(() => page.locator('datalist option', { hasText: 'Reef survey' }).getAttribute('value')).toMatch(/^archipel:catalog\/[0-9a-f-]{36}$/);
    // Submitting without the required file names the field.
    await page.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => page.locator('.field.invalid').textContent()).toContain('required');
    const input = path.join(root, 'words.txt');
    writeFileSync(input, 'federated science\nacross clusters\n');
    await page.getByLabel(/^text/).first().setInputFiles(input);
    expect(await page.getByLabel('Project').inputValue()).toBe('genomics');
    await captureAtBothWidths(page, 'portal', 'service');
    await page.getByRole('button', { name: 'Run' }).click();

    await page.waitForURL(/\/runs\/[0-9a-f]+$/);
    // A tool run alone is a workflow of one step.
    const node = page.locator('.step-node');
    await node.waitFor();
    expect(await node.textContent()).toContain('alpha');
    await expect.poll(() => node.getAttribute('data-phase'), { timeout: 90_000 }).toBe('Succeeded');
    await page.getByRole('heading', { name: 'Outputs' }).waitFor();
    const button = page.getByRole('button', { name: 'Download shouted.txt' });
    await button.waitFor();
    await captureAtBothWidths(page, 'portal', 'run');
    const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
    expect(download.suggestedFilename()).toBe('shouted.txt');
    expect(readFileSync(await download.path(), 'utf8')).toBe('FEDERATED SCIENCE\nACROSS CLUSTERS\n');

    await nav(page, 'Runs').click();
    const row = page.locator('tbody tr', { hasText: 'genomics' });
    await row.waitFor();
    expect(await row.textContent()).toContain('Succeeded');
    await captureAtBothWidths(page, 'portal', 'runs');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('a user pastes a workflow, sees the plan, and watches its DAG run step after step', { timeout: 180_000 }, async () => {
    const page = await openPage(browser);
    await signIn(page, alpha.url);
    await nav(page, 'Submit').click();

    // A document the node refuses: the node's words, naming the line, next to the form.
    await page.getByLabel(/CWL document/).fill('cwlVersion: v1.2\nclass: CommandLineTool\ninputs: {}\noutputs: {}\nbaseCommand: 42\n');
    await page.getByRole('button', { name: 'Submit' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/baseCommand/);

    await page.getByLabel(/CWL document/).fill(WORKFLOW);
    await page.getByLabel(/^message/).fill('hello dag');
    await page.getByRole('button', { name: 'Show the plan' }).click();
    const plan = page.getByRole('heading', { name: 'Where each step would run' });
    await plan.waitFor();
    expect(await page.locator('table tbody tr').count()).toBe(2);
    await captureAtBothWidths(page, 'portal', 'submit');
    await page.getByRole('button', { name: 'Submit' }).click();

    await page.waitForURL(/\/runs\/[0-9a-f]+$/);
    await page.locator('.step-node[data-step="say"]').waitFor();
    // The second step waits for the first: one edge between them.
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(1);
    await expect.poll(() => page.locator('.step-node[data-step="shout"]').getAttribute('data-phase'), { timeout: 90_000 }).toBe('Succeeded');
    expect(await page.locator('.step-node[data-step="say"]').getAttribute('data-phase')).toBe('Succeeded');
    await captureAtBothWidths(page, 'portal', 'run-dag');
    // Each step's log follows from the run's events.
    await page.locator('.step-node[data-step="say"] .step-name').focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Log of say' }).waitFor();
    await page.getByRole('button', { name: 'Download shouted.txt' }).waitFor();
    await page.context().close();
  });

  it('an operator sees a peering request, approves it, sees the peer peered, and blocks it', { timeout: 180_000 }, async () => {
    const bravo = await startFederationNode(root, running, 'bravo', swarmKey, ['--bootstrap', alpha.p2p]);
    await eventually(async () => expect(ok(await bravo.call('GET', `/discovery/peers/${alpha.clusterId}`)).connected).toBe(true), 30_000, 250);
    ok(await bravo.call('POST', `/discovery/peers/${alpha.clusterId}/request-peering`));

    const page = await openPage(browser);
    await signInWithToken(page, alpha);
    const row = page.locator(`tr[data-cluster="${bravo.clusterId}"]`);
    const state = row.locator('[data-state]');
    await expect.poll(() => state.getAttribute('data-state'), { timeout: 20_000 }).toBe('pending-approval');
    expect(await row.textContent()).toContain('bravo');
    await captureAtBothWidths(page, 'portal', 'peers-request');

    await row.getByRole('button', { name: 'Approve bravo' }).click();
    await expect.poll(() => state.getAttribute('data-state'), { timeout: 20_000 }).toBe('peered');
    await eventually(async () => expect(ok(await bravo.call('GET', `/discovery/peers/${alpha.clusterId}`)).state).toBe('peered'), 20_000, 250);
    await captureAtBothWidths(page, 'portal', 'peers-peered');

    await row.getByRole('button', { name: 'Block bravo' }).click();
    await expect.poll(() => state.getAttribute('data-state'), { timeout: 20_000 }).toBe('blocked');
    expect(ok(await alpha.call('GET', `/discovery/peers/${bravo.clusterId}`)).state).toBe('blocked');
    await row.getByRole('button', { name: 'Unblock bravo' }).waitFor();

    await nav(page, 'Cluster').click();
    await page.getByText(/^sha256:/).waitFor();
    await captureAtBothWidths(page, 'portal', 'cluster');
    await page.context().close();
  });

  it('signs users in through the OpenID provider; the projects claim makes one a member, the other gets no project', { timeout: 120_000 }, async () => {
    const signInAtProvider = async (login: string) => {
      const page = await openPage(browser);
      await page.goto(`${alpha.url}/submit`);
      await page.getByRole('link', { name: 'Sign in with Test identity provider' }).click();
      // oidc-provider's own login and consent pages.
      await page.locator('input[name="login"]').fill(login);
      await page.locator('input[name="password"]').fill('any password');
      await page.locator('button[type="submit"]').click();
      await page.locator('button[type="submit"]', { hasText: /continue/i }).click();
      // Back at the page the user first asked for, signed in; the token is gone from the address bar.
      await page.getByRole('heading', { name: 'Submit a workflow' }).waitFor();
      expect(new URL(page.url()).hash).toBe('');
      return page;
    };

    const carol = await signInAtProvider('carol-sub');
    await expect.poll(() => carol.getByLabel('Project').inputValue()).toBe('genomics');
    await captureAtBothWidths(carol, 'portal', 'oidc-member');
    await carol.context().close();

    const dave = await signInAtProvider('dave-sub');
    await dave.getByRole('option', { name: 'no project: create one first' }).waitFor({ state: 'attached' });
    await dave.context().close();

    const users = ok(await alpha.call('GET', '/users')).items as { name: string }[];
    expect(users.map((u) => u.name)).toEqual(expect.arrayContaining(['carol', 'dave']));
    const members = ok(await alpha.call('GET', '/projects/genomics/members')).items as { user: string }[];
    expect(members.map((m) => m.user)).toContain('carol');
    expect(members.map((m) => m.user)).not.toContain('dave');
  });

  it('an administrator manages users, entries and their own account; a user is told in words what only administrators may do', { timeout: 180_000 }, async () => {
    const page = await openPage(browser);
    await signIn(page, alpha.url);
    await nav(page, 'Admin').click();
    await page.getByRole('heading', { name: 'Administration' }).waitFor();
    await captureAtBothWidths(page, 'portal', 'admin');

    await page.goto(`${alpha.url}/admin/users`);
    await page.getByRole('heading', { name: 'New user' }).waitFor();
    await page.getByLabel('User name', { exact: true }).fill('Erin!');
    await page.getByRole('button', { name: 'Create user' }).click();
    // The API's words, next to the field it names.
    await expect.poll(() => page.locator('.field.invalid').first().textContent()).toMatch(/lower-case/);
    await page.getByLabel('User name', { exact: true }).fill('erin');
    await page.getByLabel('Password', { exact: true }).fill('erin password 1');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.locator('tbody tr', { hasText: 'erin' }).waitFor();
    await captureAtBothWidths(page, 'portal', 'admin-users');

    await page.goto(`${alpha.url}/admin/entries`);
    await page.getByRole('heading', { name: 'Catalog entries' }).waitFor();
    await page.getByRole('link', { name: 'Edit Shout service' }).waitFor();
    await captureAtBothWidths(page, 'portal', 'admin-entries');
    await page.getByRole('link', { name: 'Edit Shout service' }).click();
    await page.getByRole('heading', { name: 'Edit "Shout service"' }).waitFor();
    await captureAtBothWidths(page, 'portal', 'admin-entry-edit');
    await page.goto(`${alpha.url}/admin/entries/new`);
    await page.getByRole('heading', { name: 'New catalog entry' }).waitFor();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator('.field.invalid').first().waitFor();
    await captureAtBothWidths(page, 'portal', 'admin-entry-new');

    for (const [path, heading] of [
      ['/admin/compute', 'Compute'],
      ['/admin/grants', 'Access grants'],
      ['/admin/projects', 'Projects'],
      ['/nowhere', 'Not found'],
    ] as const) {
      await page.goto(`${alpha.url}${path}`);
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      await captureAtBothWidths(page, 'portal', `page${path.replaceAll('/', '-')}`);
    }

    await nav(page, 'Account').click();
    await page.getByRole('heading', { name: 'Profile' }).waitFor();
    await page.getByLabel('Display name').fill('The Admin');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(async () => ok(await alpha.call('GET', '/auth/me')).displayName).toBe('The Admin');
    await page.getByRole('link', { name: 'The Admin (admin)' }).waitFor();
    await captureAtBothWidths(page, 'portal', 'account');
    await page.context().close();

    const erin = await openPage(browser);
    await erin.goto(`${alpha.url}/admin/users`);
    await erin.getByLabel('User name').fill('erin');
    await erin.getByLabel('Password', { exact: true }).fill('erin password 1');
    await erin.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => erin.getByRole('alert').first().textContent()).toMatch(/Only cluster administrators may see and create users/);
    await erin.context().close();
  });

  it('serves its pages with a content security policy, and the API still answers JSON for unknown paths', async () => {
    const page = await fetch(`${alpha.url}/runs/some-run`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<div id="root">');
    const api = await fetch(`${alpha.url}/api/v1/no-such-thing`, { headers: { Authorization: `Bearer ${alpha.token}` } });
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('not-found');
    expect((await fetch(`${alpha.url}/assets/missing.js`)).status).toBe(404);
  });
});
