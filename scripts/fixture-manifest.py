#!/usr/bin/env python3
"""Records what the independent tools say about each fixture (used by make-test-images.sh).

  fixture-manifest.py MANIFEST NAME IMAGE SECTOR_SIZE "description" tag,tag,...

For 4096-byte sectors the tools run on a loop device attached with that sector size, because
sfdisk 2.38 and sgdisk assume 512 bytes for image files.
"""
import hashlib
import json
import os
import subprocess
import sys


def tool(args, stdout_only=False):
    r = subprocess.run(args, capture_output=True, text=True)
    return r.returncode, (r.stdout if stdout_only else r.stdout + r.stderr).strip()


def describe(device):
    code, out = tool(['sfdisk', '--json', device], stdout_only=True)
    sfdisk = json.loads(out) if code == 0 and out.startswith('{') else None
    verify = tool(['sfdisk', '--verify', device])[1] or None
    code, printed = tool(['sgdisk', '-p', device])
    return {
        'sfdisk': sfdisk,
        'sfdiskVerify': verify,
        'sgdiskPrint': printed if code == 0 else None,
        'sgdiskVerify': tool(['sgdisk', '-v', device])[1],
    }


def main():
    manifest_path, name, image, sector_size, description, tags = sys.argv[1:7]
    sector_size = int(sector_size)
    if sector_size == 512:
        facts = describe(image)
    else:
        loop = subprocess.run(['losetup', '--sector-size', str(sector_size), '--find', '--show', image],
                              capture_output=True, text=True, check=True).stdout.strip()
        try:
            facts = describe(loop)
            if facts['sfdisk']:  # name partitions like the image file would be
                for p in facts['sfdisk']['partitiontable'].get('partitions', []):
                    p['node'] = image.rsplit('/', 1)[-1] + p['node'].rsplit('p', 1)[-1]
                facts['sfdisk']['partitiontable']['device'] = image.rsplit('/', 1)[-1]
        finally:
            subprocess.run(['losetup', '--detach', loop], check=True)
    with open(image, 'rb') as f:
        digest = hashlib.sha256()
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {}
    manifest[name] = {
        'description': description,
        'sectorSize': sector_size,
        'size': os.path.getsize(image),
        'sha256': digest.hexdigest(),
        **facts,
        'tags': [t for t in tags.split(',') if t],
    }
    with open(manifest_path, 'w') as f:
        json.dump(dict(sorted(manifest.items())), f, indent=1, ensure_ascii=False)
        f.write('\n')


if __name__ == '__main__':
    main()
