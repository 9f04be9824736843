import { SimulatedClock } from './local/clock.ts';
import { LocalWorkflow } from './local/workflow-engine.ts';

const clock = new SimulatedClock();
const FN = 'arn:aws:lambda:us-east-1:123456789012:function:Fn';
for (let i = 0; i < 3; i++) {
  let t = performance.now();
  const wf = new LocalWorkflow({
    clock,
    definition: {
      StartAt: 'A',
      States: { A: { Type: 'Task', Resource: FN, Next: 'W' }, W: { Type: 'Wait', Seconds: 60, End: true } },
    } as never,
    tasks: { A: async (x) => x },
  });
  console.log('ctor', (performance.now() - t).toFixed(1));
  t = performance.now();
  const exec = wf.start('a', {});
  await exec.done.then(
    () => {},
    () => {},
  );
  await clock.settle();
  console.log('to wait', (performance.now() - t).toFixed(1), clock.pending());
  t = performance.now();
  const N = 2000;
  const execs = Array.from({ length: N }, (_, j) => wf.start(`e${j}`, { j }));
  await clock.advanceBy(3600_000);
  await Promise.all(execs.map((e) => e.done));
  console.log(
    `${N} execs`,
    (performance.now() - t).toFixed(1),
    execs.every((e) => e.status === 'SUCCEEDED'),
  );
}
