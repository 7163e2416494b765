import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDisk } from '../src/api.js';
import { openDisk } from '../src/disk/open.js';
import { gptdoctor } from './helpers/cli.js';
import { fixtureFile, sha256 } from './helpers/images.js';
import { haveTools, havePythonModule, run, tempDir } from './helpers/tools.js';

/**
 * Differencing VHD and VHDX chains. The parents are made by qemu-img from a raw fixture (an ESP
 * typed Basic data); the intended contents of each child come from sgdisk fixing that type on a
 * raw copy; the children are written by scripts/make-differencing.py (no tool here can create
 * differencing disks) and read back by libvhdi, an independent reader, before gptdoctor is
 * asked anything. gptdoctor must read exactly the bytes of the sgdisk-fixed raw image.
 */
const SCRIPT = new URL('../scripts/make-differencing.py', import.meta.url).pathname;

const LIBVHDI_READ = `
import sys, pyvhdi
parent = pyvhdi.file(); parent.open(sys.argv[2])
child = pyvhdi.file(); child.open(sys.argv[1]); child.set_parent(parent)
sys.stdout.buffer.write(child.read_buffer_at_offset(child.get_media_size(), 0))
`;

describe.runIf(haveTools('qemu-img', 'sgdisk', 'sfdisk') && havePythonModule('pyvhdi', 'python3-libvhdi'))('differencing VHD and VHDX', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const base = fixtureFile('windows-esp-basic', dir.path);
  const fixed = join(dir.path, 'fixed.img');
  copyFileSync(base, fixed);
  run('sgdisk', ['--typecode=1:EF00', fixed]);
  const expected = readFileSync(fixed);
  const convert = (args: string[], name: string): string => {
    const out = join(dir.path, name);
    run('qemu-img', ['convert', '-f', 'raw', ...args, base, out]);
    return out;
  };
  const parents = {
    vhd: convert(['-O', 'vpc', '-o', 'subformat=dynamic,force_size=on'], 'parent.vhd'),
    vhdx: convert(['-O', 'vhdx', '-o', 'subformat=dynamic'], 'parent.vhdx'),
  };
  const child = (kind: 'vhd' | 'vhdx', name: string, ...extra: string[]): string => {
    const out = join(dir.path, name);
    run('/usr/bin/python3', [SCRIPT, kind, parents[kind], base, fixed, out, ...extra]);
    return out;
  };
  // libvhdi misreads VHD bitmap bytes with only some bits set, so its check uses the --whole-bytes child.
  const chains: Array<[string, string, boolean]> = [
    ['VHD, whole bitmap bytes', child('vhd', 'child-bytes.vhd', '--whole-bytes'), true],
    ['VHD, single sectors', child('vhd', 'child-sectors.vhd'), false],
    ['VHDX, partially present blocks', child('vhdx', 'child.avhdx'), true],
  ];

  it.each(chains)('%s: gptdoctor reads the sgdisk-fixed image, as libvhdi does where it can', async (_label, path, libvhdiAgrees) => {
    const parent = path.endsWith('.vhd') ? parents.vhd : parents.vhdx;
    if (libvhdiAgrees) {
      const viaLibvhdi = execFileSync('/usr/bin/python3', ['-c', LIBVHDI_READ, path, parent], { maxBuffer: 1 << 30 });
      expect(sha256(viaLibvhdi)).toBe(sha256(expected));
    }
    const source = await openDisk(path);
    expect(source.containerInfo?.type).toBe('differencing');
    expect(source.containerInfo?.parent).toBe(parent);
    expect(sha256(await source.read(0, source.size))).toBe(sha256(expected));
    // Ranges that start and end inside sectors, across child and parent sectors.
    for (const [at, n] of [[511, 3], [1000, 70_000], [expected.length - 34 * 512 - 7, 34 * 512 + 7]] as const) {
      expect(Buffer.from(await source.read(at, n)).equals(expected.subarray(at, at + n))).toBe(true);
    }
    await source.close();
  });

  it.each(chains)('%s: check gives the findings of the fixed raw image, and the parent still has esp-type', async (_label, path) => {
    const codes = async (p: string): Promise<string[]> => (await checkDisk(p)).findings.map((f) => f.code);
    expect(await codes(path)).toEqual(await codes(fixed));
    expect(await codes(path)).not.toContain('esp-type');
    expect(await codes(path.endsWith('.vhd') ? parents.vhd : parents.vhdx)).toContain('esp-type');
    const r = gptdoctor(['inspect', '--json', path]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).partitions[0].type).toBe('C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
  });

  it('finds a moved child\'s parent only through --parent, and proves the parent is the right one', () => {
    const away = join(dir.path, 'elsewhere');
    mkdirSync(away, { recursive: true });
    const moved = join(away, 'child.avhdx');
    copyFileSync(chains[2]![1], moved);
    let r = gptdoctor(['check', moved]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/parent was not found \(it names ".\\parent.vhdx", "C:\\VMs\\parent.vhdx"\); give it with --parent PATH/);
    r = gptdoctor(['check', '--json', moved, '--parent', parents.vhdx]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).source.container).toMatchObject({ type: 'differencing', parent: parents.vhdx });
    // Another VHDX, or a VHD, is not this child's parent: the DataWriteGuid must match.
    const other = convert(['-O', 'vhdx', '-o', 'subformat=dynamic'], 'other.vhdx');
    r = gptdoctor(['check', moved, '--parent', other]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is not the parent of this differencing VHDX: its DataWriteGuid is \{[0-9a-f-]{36}\} and the child expects \{[0-9a-f-]{36}\}/);
    r = gptdoctor(['check', chains[0]![1], '--parent', parents.vhdx]);
    expect(r.stderr).toMatch(/is not the parent of this differencing VHD: it is a vhdx image, not a VHD/);
  });

  it('refuses a chain that loops back to itself', () => {
    const loop = join(dir.path, 'loop');
    mkdirSync(loop, { recursive: true });
    // A child that names "parent.vhdx", stored as parent.vhdx: it is its own parent.
    copyFileSync(chains[2]![1], join(loop, 'parent.vhdx'));
    const r = gptdoctor(['check', join(loop, 'parent.vhdx')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/loops back/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses to write a parent that has children beside it, and sectors a child only partly holds', () => {
    for (const parent of [parents.vhd, parents.vhdx]) {
      const before = sha256(readFileSync(parent));
      const r = gptdoctor(['set', parent, '1', '--type', 'esp', '--yes']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/is the parent of the differencing disks? .*child.*break the chain/);
      expect(sha256(readFileSync(parent))).toBe(before);
    }
    // The child holds single sectors of the backup array: writing the whole array would need
    // new blocks or bitmap changes, which gptdoctor never makes.
    for (const [, path] of chains.slice(1)) {
      const before = sha256(readFileSync(path));
      const r = gptdoctor(['set', path, '1', '--type', 'basic', '--yes']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/cannot write the .* in place: (sector \d+ of VHD block \d+ is marked unwritten|VHDX block \d+ is PARTIALLY_PRESENT)/);
      expect(sha256(readFileSync(path))).toBe(before);
    }
  });

  it('reports a damaged parent locator clearly', async () => {
    const bad = join(dir.path, 'bad-locator.avhdx');
    const bytes = readFileSync(chains[2]![1]);
    // The locator is the sixth metadata item (2 MiB region, table entries from byte 32).
    const entry = 2 * 1024 * 1024 + 32 + 5 * 32;
    const itemAt = 2 * 1024 * 1024 + bytes.readUInt32LE(entry + 16);
    bytes.writeUInt16LE(0xffff, itemAt + 18); // KeyValueCount far past the item
    writeFileSync(bad, bytes);
    await expect(openDisk(bad)).rejects.toThrow(/parent locator entries run past the item/);
  });
});

describe('where a parent or extent named in a container is looked for', () => {
  it('a POSIX absolute path is tried where it says, then beside the child; a Windows path by its file name', async () => {
    const { parentCandidates } = await import('../src/disk/differencing.js');
    expect(parentCandidates('/tmp/vm/x.vmdk', ['/srv/vm/base.vmdk'])).toEqual(['/srv/vm/base.vmdk', '/tmp/vm/base.vmdk']);
    const windows = parentCandidates('/tmp/vm/x.avhdx', ['C:\\VMs\\base.vhdx', '\\\\server\\share\\p.vhdx']);
    expect(windows.filter((p) => p.startsWith('/tmp/vm/'))).toEqual(['/tmp/vm/base.vhdx', '/tmp/vm/p.vhdx']);
    expect(parentCandidates('/tmp/vm/x.vmdk', ['sub\\p-flat.vmdk'])).toEqual(['/tmp/vm/sub/p-flat.vmdk']);
  });
});
