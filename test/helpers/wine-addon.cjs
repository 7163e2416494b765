// Run by `wine node.exe` (test/sea.test.ts): loads the Windows addon and drives one disk through
// its native backend, then prints one JSON report.
//   node.exe wine-addon.cjs ADDON DISK LBA,LBA,…
// It asks every ioctl the backend relies on (probeIoctls, which writes nothing), opens the disk
// for writing, writes one patterned sector at each LBA, flushes, and reads them back through a
// fresh read-only handle, plus a short read across the disk's last bytes.
'use strict';

const [addonPath, diskPath, lbaList] = process.argv.slice(2);
const addon = { exports: {} };
process.dlopen(addon, addonPath);
const { openDevice, probeIoctls } = addon.exports;

/** The bytes written to sector `lba`: different in every sector, so a misplaced write shows. */
function pattern(lba, size) {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (lba * 31 + i * 7) & 0xff;
  return bytes;
}

async function main() {
  const ioctls = Object.fromEntries((await probeIoctls(diskPath, true)).map((a) => [a.ioctl, a.error ?? 'ok']));
  const disk = await openDevice(diskPath, true);
  const opened = { size: disk.size, logicalSectorSize: disk.logicalSectorSize, physicalSectorSize: disk.physicalSectorSize, isBlockDevice: disk.isBlockDevice, readOnly: disk.readOnly };
  const sector = disk.logicalSectorSize;
  const lbas = lbaList.split(',').map(Number);
  for (const lba of lbas) await disk.write(lba * sector, pattern(lba, sector));
  await disk.flush();
  disk.close();
  const again = await openDevice(diskPath, false);
  const readBack = [];
  for (const lba of lbas) readBack.push((await again.read(lba * sector, sector)).equals(pattern(lba, sector)));
  const tail = (await again.read(again.size - 3, 10)).length;
  again.close();
  console.log(JSON.stringify({ ioctls, opened, readBack, tail }));
}

main().catch((err) => {
  console.log(JSON.stringify({ error: err.message }));
  process.exitCode = 1;
});
