/**
 * A small recorded study for the viewer's data, server and report tests: two experiments in one
 * project, every value chosen so the tests can state the answers by hand.
 *
 * `runledger.local/ui/small:v1` (metric timestamps as given where the tests read them):
 * - run 0 `first`: lr 0.1, layers 3, big 2^60 + 1 (a bigint), opt 'sgd'; loss at steps 0, 1, 2 =
 *   1, 0.5, 0.25 (timestamps 1000, 2000, 3000), acc at steps 0, 1 = 0.5, 0.75; tag stage=dev,
 *   label baseline, attribute gpu=true; attachments summary.json `{"ok":true}`, notes.txt
 *   `hello`, preds.csv `a,b\n1,2\n`, pixel.png (8 bytes), page.html, weights.npy (npy);
 * - run 1 `second`: lr 0.01, layers 5, opt 'adam'; loss 2 then 3 (steps 0, 1); fails with
 *   `RangeError: diverged at step 1`;
 * - run 2 `third`: lr 0.2, layers 1, opt 'sgd'; one solve of a 3-variable, 1-constraint
 *   instance by the adapter `test.AllOnes` (every variable 1, objective 6, feasible).
 *
 * `runledger.local/ui/small:v2`: one run `solo` with lr 0.3.
 */
import { Experiment } from '../../src/experiment/experiment.js';
import { InstanceBuilder, sum } from '../../src/ommx/builder.js';
import type { Instance } from '../../src/ommx/instance.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import type { UiBundle } from '../../src/ui/model.js';
import { decodeBundle } from '../../src/ui/report.js';
import { tempDir } from '../helpers/temp.js';

export const SMALL_V1 = 'runledger.local/ui/small:v1';
export const SMALL_V2 = 'runledger.local/ui/small:v2';
export const PROJECT = 'runledger.local/ui/small';
export const BIG = 2n ** 60n + 1n;
export const PNG_BYTES = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
export const HTML_TEXT = '<script>alert(1)</script>';

/** A 1-D float64 npy of [1, 2] (format version 1.0, header padded to 128 bytes). */
export function npyBytes(): Uint8Array {
  const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
  const pad = 128 - 10 - header.length - 1;
  const text = `${header}${' '.repeat(pad)}\n`;
  const out = new Uint8Array(128 + 16);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0, text.length & 0xff, text.length >> 8]);
  out.set(new TextEncoder().encode(text), 10);
  new DataView(out.buffer).setFloat64(128, 1, true);
  new DataView(out.buffer).setFloat64(136, 2, true);
  return out;
}

function threeVariables(): Instance {
  const b = new InstanceBuilder({ name: 'three' });
  const x = [0, 1, 2].map((i) => b.integer('x', { subscripts: [i], lower: 0, upper: 5 }));
  b.addConstraint(sum(x).leq(10));
  b.minimize(sum(x.map((v, i) => v.times(i + 1))));
  return b.build();
}

const AllOnes = {
  name: 'test.AllOnes',
  solve: (instance: Instance) =>
    instance.evaluate(new Map(instance.decisionVariables.map((v) => [v.id, 1]))),
};

/** Records the study in a fresh store. @returns the store's root */
export async function recordSmallStudy(): Promise<string> {
  const root = await tempDir('runledger-ui-');
  const registry = await LocalRegistry.open(root);
  const exp = await Experiment.create(SMALL_V1, { registry });
  await exp.run(
    async (run) => {
      run.logParams({ lr: 0.1, layers: 3, big: BIG, opt: 'sgd' });
      run.logMetric('loss', 1, { step: 0, timestamp: 1000 });
      run.logMetric('loss', 0.5, { step: 1, timestamp: 2000 });
      run.logMetric('acc', 0.5, { step: 0 });
      run.logMetric('loss', 0.25, { step: 2, timestamp: 3000 });
      run.logMetric('acc', 0.75, { step: 1 });
      run.setAttribute('gpu', true);
      await run.logJson('summary.json', { ok: true });
      await run.logText('notes.txt', 'hello');
      await run.logAttachment('preds.csv', 'text/csv', new TextEncoder().encode('a,b\n1,2\n'));
      await run.logAttachment('pixel.png', 'image/png', PNG_BYTES);
      await run.logAttachment('page.html', 'text/html', new TextEncoder().encode(HTML_TEXT));
      await run.logAttachment('weights.npy', 'application/x-npy', npyBytes());
    },
    { name: 'first', tags: { stage: 'dev' }, labels: ['baseline'] }
  );
  await exp
    .run(
      (run) => {
        run.logParams({ lr: 0.01, layers: 5, opt: 'adam' });
        run.logMetric('loss', 2);
        run.logMetric('loss', 3);
        throw new RangeError('diverged at step 1');
      },
      { name: 'second' }
    )
    .catch(() => undefined);
  await exp.run(
    async (run) => {
      run.logParams({ lr: 0.2, layers: 1, opt: 'sgd' });
      await run.logSolve(AllOnes, threeVariables());
    },
    { name: 'third' }
  );
  await exp.commit();
  const v2 = await Experiment.create(SMALL_V2, { registry });
  await v2.run((run) => run.logParameter('lr', 0.3), { name: 'solo' });
  await v2.commit();
  return root;
}

/** The bundle a report carries, decoded as the page decodes it. */
export function decodeReport(html: string): UiBundle {
  const m =
    /<script type="application\/octet-stream" id="runledger-data">([A-Za-z0-9+/=]*)<\/script>/.exec(
      html
    );
  if (m === null) throw new Error('no runledger-data script in the report');
  return decodeBundle(m[1] as string);
}
