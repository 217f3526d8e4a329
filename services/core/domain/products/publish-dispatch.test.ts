import type { StagedSource } from '../../publish/stage-path';
import { productsToEnqueue } from './publish-dispatch';
import type { ReadyRegistration } from './register-product';

/** A registration ready to write, with only what the dispatch reads filled in. */
function ready(dataId: string, kind: StagedSource['kind'], sizeBytes: number, dataType = 'image'): ReadyRegistration {
  return {
    outcome: 'ready', autoPublish: true,
    input: { data_id: dataId, data_type: dataType, stage_path: `${dataId}.fits` },
    source: { relativePath: `${dataId}.fits`, absolutePath: `/stage/${dataId}.fits`, kind, sizeBytes, fileCount: 1 },
  } as ReadyRegistration;
}

describe('productsToEnqueue', () => {
  const publish = { groupMaxBytes: 1000, groupSize: 3 };

  it('gives a job to the first small file of each group’s worth, and to every product a group never takes', () => {
    const created = [
      ready('s0', 'file', 10), ready('big', 'file', 1001), ready('s1', 'file', 1000), ready('dir', 'directory', 10),
      ready('s2', 'file', 10), ready('s3', 'file', 10), ready('s4', 'file', 10), ready('s5', 'file', 10), ready('s6', 'file', 10),
    ];
    expect(productsToEnqueue(publish, created)).toEqual(['s0', 'big', 'dir', 's3', 's6']);
  });

  it('counts each data type on its own, so that a job paused with its type leads only products of that type', () => {
    const created = ['i0', 'm0', 'i1', 'm1', 'i2', 'm2', 'i3', 'm3'].map((id) => ready(id, 'file', 10, id.startsWith('i') ? 'image' : 'mosaic'));
    expect(productsToEnqueue(publish, created)).toEqual(['i0', 'm0', 'i3', 'm3']);
  });

  it('gives every product its own job when groups are off', () => {
    const created = [ready('a', 'file', 10), ready('b', 'file', 10), ready('c', 'directory', 10)];
    expect(productsToEnqueue({ groupMaxBytes: 0, groupSize: 3 }, created)).toEqual(['a', 'b', 'c']);
    expect(productsToEnqueue(publish, [])).toEqual([]);
  });
});
