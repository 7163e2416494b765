/**
 * Windows device namespace paths that name a disk or volume, which Node's fs cannot open as a
 * disk: \\.\PhysicalDrive0, \\.\C:, \\?\Volume{GUID}, \\.\Harddisk0Partition1,
 * \\?\GLOBALROOT\Device\Harddisk0\Partition0, \\.\CdRom0. A file reached through the same
 * prefix (\\?\C:\images\disk.img) is still a file.
 */
const WINDOWS_DEVICE =
  /^\\\\[.?]\\(?:PhysicalDrive\d+|[A-Za-z]:|Volume\{[0-9A-Fa-f-]{36}\}|Harddisk\d+Partition\d+|GLOBALROOT\\Device\\[^\\]+(?:\\[^\\]+)?|CdRom\d+)\\?$/i;

export function isWindowsDevicePath(path: string): boolean {
  return WINDOWS_DEVICE.test(path);
}
