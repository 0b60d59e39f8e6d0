/**
 * The page's two data sources (web/data.ts), run in Node against the real thing: the server
 * (`serveUi`, over HTTP with the token) and a report (`reportHtml`'s inline data). Both give a
 * metric's values as numbers, as `UiMetricSeries` types them: the report every float64 as it was
 * logged (NaN, ±Infinity, -0), the server's JSON — which writes a non-finite value as `null`, and
 * -0 as 0 — NaN for each null, so a chart leaves a gap there instead of drawing a point at 0.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Experiment } from '../../src/experiment/experiment.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { reportHtml } from '../../src/ui/report.js';
import { serveUi, type UiServer } from '../../src/ui/server.js';
import { InlineSource, ServerSource } from '../../web/data.js';
import { tempDir } from '../helpers/temp.js';
import { decodeReport } from './study.js';

const PAGE =
  '<!doctype html><html><head><title>runledger</title></head><body><script>1</script></body></html>';
const REF = 'runledger.local/ui-test/specials:v1';
const LOGGED = [1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0.1, 5e-324];

const started: UiServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

async function record(): Promise<{ registry: LocalRegistry; page: string }> {
  const registry = await LocalRegistry.open(await tempDir('runledger-ui-'));
  const exp = await Experiment.create(REF, { registry });
  await exp.run((run) => {
    LOGGED.forEach((v, step) => run.logMetric('loss', v, { step, timestamp: 1000 + step }));
  });
  await exp.commit();
  const page = join(await tempDir(), 'index.html');
  await writeFile(page, PAGE);
  return { registry, page };
}

describe("the page's data sources (web/data.ts)", () => {
  it('give metric values as numbers: the report each float64 as logged, the server NaN for null', async () => {
    const { registry, page } = await record();
    const { html } = await reportHtml(REF, { registry, page });
    const inline = new InlineSource(decodeReport(html));
    const study = await inline.study();
    const key = { experiment: study.experiments[0]!.id, runId: study.runs.runId[0]! };
    const [fromReport] = await inline.metrics([key], ['loss']);
    expect(fromReport!.steps).toEqual([0, 1, 2, 3, 4, 5, 6]);
    LOGGED.forEach((v, i) => expect(Object.is(fromReport!.values[i], v), `value ${i}`).toBe(true));

    const ui = await serveUi({ registry, experiments: REF, page });
    started.push(ui);
    const server = new ServerSource(ui.token, `http://127.0.0.1:${ui.port}`);
    const [fromServer] = await server.metrics([key], ['loss']);
    expect(fromServer!.steps).toEqual(fromReport!.steps);
    expect(fromServer!.timestamps).toEqual(fromReport!.timestamps);
    expect(fromServer!.values.map((v) => typeof v)).toEqual(LOGGED.map(() => 'number'));
    // JSON text has no -0 either: the server's reads back as 0.
    const finite = LOGGED.map((v) => (Number.isFinite(v) ? v + 0 : Number.NaN));
    finite.forEach((v, i) => expect(Object.is(fromServer!.values[i], v), `value ${i}`).toBe(true));
  });
});
