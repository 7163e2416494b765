#!/usr/bin/env bash
# Builds regf test hives with hivex (libwin-hivex-perl's hivexregedit), starting from the empty
# hive of scripts/make-empty-hive.py. Needs python3 and hivexregedit.
#
#   make-test-hive.sh OUT.hive ROOT REGFILE...   empty hive whose root key is ROOT, merged with
#                                                each .reg file (key paths start with
#                                                HKEY_LOCAL_MACHINE\ROOT)
#   make-test-hive.sh --sample DIR               DIR/sample.reg, DIR/sample.hive (hivex's own
#                                                cells) and DIR/sample-relisted.hive (the same
#                                                content with ri, li, lf lists and db big data,
#                                                by scripts/regf-relist.py)
#
# The sample (root "SAMPLE"): \Many with 700 subkeys Key0000..Key0699 (hivex writes them as one
# lh list), a few of them with a value; \Values with a default value and REG_SZ, REG_EXPAND_SZ,
# REG_DWORD (resident: four bytes in the value cell), REG_QWORD, REG_BINARY, an empty
# REG_BINARY, REG_MULTI_SZ and a 20,000-byte REG_BINARY; \Lists\AsLi and \Lists\AsLf with three
# subkeys each; a key and a value with non-Latin-1 (UTF-16) names; a key with a Latin-1 name.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

build() {
  local out="$1" root="$2"
  shift 2
  python3 "$here/make-empty-hive.py" "$out" "$root"
  for reg in "$@"; do hivexregedit --merge --prefix "HKEY_LOCAL_MACHINE\\$root" "$out" "$reg"; done
}

if [ "${1:-}" = "--sample" ]; then
  dir="$2"
  python3 - "$dir/sample.reg" <<'EOF'
import sys
lines = ['Windows Registry Editor Version 5.00']
def key(path, *values):
    lines.append('')
    lines.append('[HKEY_LOCAL_MACHINE\\SAMPLE' + path + ']')
    lines.extend(values)
hexes = lambda data: ','.join('%02x' % b for b in data)
# hivexregedit widens each byte of a quoted string to one UTF-16 unit, so non-ASCII text is
# given as the REG_SZ bytes themselves (key and value names it converts correctly)
sz = lambda text: 'hex(1):' + hexes((text + '\0').encode('utf-16-le'))
key('', '"RootValue"="at the root"')
key('\\Many')
for i in range(700):
    key(f'\\Many\\Key{i:04d}', *([f'"Index"=dword:{i:08x}'] if i % 100 == 7 else []))
key('\\Values',
    '@="the default value"',
    '"Str"="hello world"',
    '"Expand"=hex(2):' + hexes('%SystemRoot%\\system32\0'.encode('utf-16-le')),
    '"Dword"=dword:12345678',
    '"Qword"=hex(b):' + hexes((0x0123456789ABCDEF).to_bytes(8, 'little')),
    '"Bin"=hex:01,02,03,04,05',
    '"Empty"=hex:',
    '"Multi"=hex(7):' + hexes('first\0second\0\0'.encode('utf-16-le')),
    '"Big"=hex:' + hexes(bytes((i * 7 + i // 256) & 255 for i in range(20000))))
key('\\Lists')
key('\\Lists\\AsLi')
for n in ('Alpha', 'Beta', 'Gamma'):
    key('\\Lists\\AsLi\\' + n)
key('\\Lists\\AsLf')
for n in ('One', 'Two', 'Three'):
    key('\\Lists\\AsLf\\' + n)
key('\\Ünïcødé ключ', '"値"=' + sz('日本語のテキスト'), '"plain"=dword:00000001')
key('\\Café', '"Crème"=' + sz('brûlée'))
with open(sys.argv[1], 'w', encoding='utf-8') as f:
    f.write('\n'.join(lines) + '\n')
EOF
  build "$dir/sample.hive" SAMPLE "$dir/sample.reg"
  python3 "$here/regf-relist.py" "$dir/sample.hive" "$dir/sample-relisted.hive" --ri Many --li 'Lists\AsLi' --lf 'Lists\AsLf' --db
  exit 0
fi

[ $# -ge 3 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
build "$@"
