#!/usr/bin/python3
"""A network share, for the bench: a read-only FUSE passthrough of DIR at MOUNTPOINT whose every
read() waits DELAY_MS first, as a round trip to a file server would. direct_io, so the kernel
neither caches nor reads ahead: each read a program makes is one request here, as on a share
whose client does not join them (the worst case, and the one where reads per image are the cost).

    slow-share.py DIR MOUNTPOINT DELAY_MS COUNT_FILE

COUNT_FILE holds the number of reads served so far, rewritten at each read (12 digits, in place,
so it is never seen half-written). Unmount with fusermount -u. Needs Debian's python3-fusepy (the
module fusepy).
"""
import errno
import os
import sys
import threading
import time

from fusepy import FUSE, FuseOSError, Operations

ROOT, MOUNTPOINT, DELAY_MS, COUNT_FILE = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
served = 0
lock = threading.Lock()
count_fd = os.open(COUNT_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.pwrite(count_fd, b'%12d' % 0, 0)


class SlowShare(Operations):
    def getattr(self, path, fh=None):
        st = os.lstat(ROOT + path)
        keys = ('st_mode', 'st_size', 'st_nlink', 'st_uid', 'st_gid', 'st_atime', 'st_mtime', 'st_ctime', 'st_blocks')
        return {k: getattr(st, k) for k in keys}

    def readdir(self, path, fh):
        return ['.', '..'] + os.listdir(ROOT + path)

    def open(self, path, flags):
        return os.open(ROOT + path, os.O_RDONLY)

    def read(self, path, size, offset, fh):
        global served
        with lock:
            served += 1
            os.pwrite(count_fd, b'%12d' % served, 0)
        time.sleep(DELAY_MS / 1000)
        return os.pread(fh, size, offset)

    def release(self, path, fh):
        os.close(fh)

    def getxattr(self, path, name, position=0):
        raise FuseOSError(errno.ENODATA)


FUSE(SlowShare(), MOUNTPOINT, foreground=True, ro=True, direct_io=True, nothreads=False)
