//! napi layer: a thin binding of `device` for Node. Every call that touches the disk runs on the
//! libuv thread pool (AsyncTask), never on the JS thread. Errors carry a stable code as their
//! message prefix ("EBUSY: …"), which the TypeScript DeviceSource turns into a DiskError.
#![deny(clippy::undocumented_unsafe_blocks)]

mod aligned;
pub mod device;
// Planned on every platform (and tested), carried out by Linux only.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
mod partition_sync;
// Each platform uses its half of these; the other half is compiled for its tests.
#[allow(dead_code)]
mod ioctl_numbers;
#[cfg(unix)]
mod posix;
// Used on Unix only (searchFile takes a POSIX descriptor); compiled everywhere for its tests.
#[cfg_attr(not(unix), allow(dead_code))]
mod search;
mod search_binding;
// The hunt maps its stretches on Linux only; elsewhere it reads them (search.rs).
#[cfg(target_os = "linux")]
mod fault_guard;
#[cfg(target_os = "linux")]
mod mapped;
#[cfg_attr(not(windows), allow(dead_code))]
mod win_structs;
// Decided on every platform (and tested), carried out by Windows only.
#[cfg_attr(not(windows), allow(dead_code))]
mod win_plan;

use device::{Device, DriveInfo, Extent, IoctlAnswer, Reread};
use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;
use std::sync::{Arc, Mutex};

pub(crate) fn to_napi(err: std::io::Error, what: &str) -> Error {
    let os_name = device::error_name(&err).map(|n| format!(" [{n}]")).unwrap_or_default();
    Error::new(Status::GenericFailure, format!("{}: {}: {}{}", device::error_code(&err), what, err, os_name))
}

#[napi]
pub struct NativeDevice {
    inner: Mutex<Option<Arc<Device>>>,
    size: f64,
    logical: u32,
    physical: u32,
    read_only: bool,
    is_block: bool,
    path: String,
}

impl NativeDevice {
    fn device(&self) -> Result<Arc<Device>> {
        self.inner
            .lock()
            .unwrap()
            .clone()
            .ok_or_else(|| Error::new(Status::GenericFailure, "EBADF: the device is closed"))
    }
}

#[napi]
impl NativeDevice {
    #[napi(getter)]
    pub fn size(&self) -> f64 {
        self.size
    }
    #[napi(getter)]
    pub fn logical_sector_size(&self) -> u32 {
        self.logical
    }
    #[napi(getter)]
    pub fn physical_sector_size(&self) -> u32 {
        self.physical
    }
    #[napi(getter)]
    pub fn read_only(&self) -> bool {
        self.read_only
    }
    #[napi(getter)]
    pub fn is_block_device(&self) -> bool {
        self.is_block
    }
    #[napi(getter)]
    pub fn path(&self) -> String {
        self.path.clone()
    }

    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn read(&self, offset: f64, length: u32) -> Result<AsyncTask<ReadTask>> {
        Ok(AsyncTask::new(ReadTask {
            device: self.device()?,
            offset: offset as u64,
            length: length as usize,
        }))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn write(&self, offset: f64, data: Buffer) -> Result<AsyncTask<WriteTask>> {
        Ok(AsyncTask::new(WriteTask {
            device: self.device()?,
            offset: offset as u64,
            data: data.to_vec(),
            op: WriteOp::Write,
        }))
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn flush(&self) -> Result<AsyncTask<WriteTask>> {
        Ok(AsyncTask::new(WriteTask {
            device: self.device()?,
            offset: 0,
            data: Vec::new(),
            op: WriteOp::Flush,
        }))
    }

    /// Asks the OS to re-read the partition table (BLKRRPART, IOCTL_DISK_UPDATE_PROPERTIES). On
    /// Linux, when a partition is open, tells the kernel of each change in `table` (BLKPG).
    #[napi(ts_return_type = "Promise<RereadResult>")]
    pub fn reread_partitions(&self, table: Vec<PartitionExtent>) -> Result<AsyncTask<RereadTask>> {
        Ok(AsyncTask::new(RereadTask {
            device: self.device()?,
            table: table
                .iter()
                .map(|p| Extent {
                    number: p.number,
                    start: p.start as u64,
                    length: p.length as u64,
                })
                .collect(),
        }))
    }

    /// Drops this handle's reference; the file closes once running tasks finish.
    #[napi]
    pub fn close(&self) {
        self.inner.lock().unwrap().take();
    }
}

pub struct OpenTask {
    path: String,
    write: bool,
}

impl Task for OpenTask {
    type Output = Device;
    type JsValue = NativeDevice;
    fn compute(&mut self) -> Result<Device> {
        Device::open(&self.path, self.write).map_err(|e| to_napi(e, &format!("cannot open {}", self.path)))
    }
    fn resolve(&mut self, _env: Env, d: Device) -> Result<NativeDevice> {
        Ok(NativeDevice {
            size: d.size as f64,
            logical: d.logical_sector_size,
            physical: d.physical_sector_size,
            read_only: d.read_only,
            is_block: d.is_block_device,
            path: d.path.clone(),
            inner: Mutex::new(Some(Arc::new(d))),
        })
    }
}

/// Opens a disk: read-only unless `write`, exclusively (O_EXCL + flock) for writes on devices.
#[napi(ts_return_type = "Promise<NativeDevice>")]
pub fn open_device(path: String, write: bool) -> AsyncTask<OpenTask> {
    AsyncTask::new(OpenTask { path, write })
}

pub struct ReadTask {
    device: Arc<Device>,
    offset: u64,
    length: usize,
}

impl Task for ReadTask {
    type Output = Vec<u8>;
    type JsValue = Buffer;
    fn compute(&mut self) -> Result<Vec<u8>> {
        self.device.read_at(self.offset, self.length).map_err(|e| to_napi(e, "read failed"))
    }
    fn resolve(&mut self, _env: Env, output: Vec<u8>) -> Result<Buffer> {
        Ok(output.into())
    }
}

pub enum WriteOp {
    Write,
    Flush,
}

pub struct WriteTask {
    device: Arc<Device>,
    offset: u64,
    data: Vec<u8>,
    op: WriteOp,
}

impl Task for WriteTask {
    type Output = ();
    type JsValue = ();
    fn compute(&mut self) -> Result<()> {
        match self.op {
            WriteOp::Write => self.device.write_at(self.offset, &self.data).map_err(|e| to_napi(e, "write failed")),
            WriteOp::Flush => self.device.flush().map_err(|e| to_napi(e, "flush failed")),
        }
    }
    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

/// One partition of the new table: its number (GPT slot) and byte extent.
#[napi(object)]
pub struct PartitionExtent {
    pub number: u32,
    pub start: f64,
    pub length: f64,
}

/// How the OS learnt of the new table: "none" (an image file), "reread" (the whole table), or
/// "blkpg" (partition by partition; `changes` says what was done, `failures` what was not).
#[napi(object)]
pub struct RereadResult {
    #[napi(ts_type = "'none' | 'reread' | 'blkpg'")]
    pub method: String,
    pub changes: Vec<String>,
    pub failures: Vec<String>,
}

pub struct RereadTask {
    device: Arc<Device>,
    table: Vec<Extent>,
}

impl Task for RereadTask {
    type Output = Reread;
    type JsValue = RereadResult;
    fn compute(&mut self) -> Result<Reread> {
        self.device
            .reread_partitions(&self.table)
            .map_err(|e| to_napi(e, "re-reading the partition table failed"))
    }
    fn resolve(&mut self, _env: Env, output: Reread) -> Result<RereadResult> {
        let (method, changes, failures) = match output {
            Reread::NotADevice => ("none", Vec::new(), Vec::new()),
            Reread::Reread => ("reread", Vec::new(), Vec::new()),
            Reread::Updated(report) => ("blkpg", report.done, report.failed),
        };
        Ok(RereadResult {
            method: method.to_string(),
            changes,
            failures,
        })
    }
}

#[napi(object)]
pub struct Drive {
    pub path: String,
    pub model: String,
    pub size: f64,
    pub logical_sector_size: u32,
    pub physical_sector_size: u32,
    pub removable: bool,
    pub read_only: bool,
}

pub struct ListTask;

impl Task for ListTask {
    type Output = Vec<DriveInfo>;
    type JsValue = Vec<Drive>;
    fn compute(&mut self) -> Result<Vec<DriveInfo>> {
        device::list_drives().map_err(|e| to_napi(e, "cannot list drives"))
    }
    fn resolve(&mut self, _env: Env, drives: Vec<DriveInfo>) -> Result<Vec<Drive>> {
        Ok(drives
            .into_iter()
            .map(|d| Drive {
                path: d.path,
                model: d.model,
                size: d.size as f64,
                logical_sector_size: d.logical_sector_size,
                physical_sector_size: d.physical_sector_size,
                removable: d.removable,
                read_only: d.read_only,
            })
            .collect())
    }
}

/// Whole physical drives the OS reports (Linux: /sys/block).
#[napi(ts_return_type = "Promise<Array<Drive>>")]
pub fn list_drives() -> AsyncTask<ListTask> {
    AsyncTask::new(ListTask)
}

pub struct RangesTask {
    path: String,
}

impl Task for RangesTask {
    type Output = Vec<(u64, u64)>;
    type JsValue = Vec<Vec<f64>>;
    fn compute(&mut self) -> Result<Vec<(u64, u64)>> {
        device::data_ranges(&self.path).map_err(|e| to_napi(e, &format!("cannot map {}", self.path)))
    }
    fn resolve(&mut self, _env: Env, ranges: Vec<(u64, u64)>) -> Result<Vec<Vec<f64>>> {
        Ok(ranges.into_iter().map(|(a, b)| vec![a as f64, b as f64]).collect())
    }
}

/// The [start, end) byte ranges of a file that hold data (SEEK_DATA/SEEK_HOLE); sparse holes are left out.
#[napi(ts_return_type = "Promise<Array<Array<number>>>")]
pub fn data_ranges(path: String) -> AsyncTask<RangesTask> {
    AsyncTask::new(RangesTask { path })
}

/// One ioctl and its answer (no `error` when it succeeded): see `probeIoctls`.
#[napi(object)]
pub struct IoctlResult {
    pub ioctl: String,
    pub bytes: u32,
    /// The first 64 bytes returned, in hex.
    pub hex: String,
    pub error: Option<String>,
}

pub struct ProbeTask {
    path: String,
    write: bool,
}

impl Task for ProbeTask {
    type Output = Vec<IoctlAnswer>;
    type JsValue = Vec<IoctlResult>;
    fn compute(&mut self) -> Result<Vec<IoctlAnswer>> {
        device::probe_ioctls(&self.path, self.write).map_err(|e| to_napi(e, &format!("cannot probe {}", self.path)))
    }
    fn resolve(&mut self, _env: Env, answers: Vec<IoctlAnswer>) -> Result<Vec<IoctlResult>> {
        Ok(answers
            .into_iter()
            .map(|a| IoctlResult {
                ioctl: a.ioctl.to_string(),
                bytes: a.bytes as u32,
                hex: a.hex,
                error: a.error,
            })
            .collect())
    }
}

/// Windows: what each DeviceIoControl query the backend relies on answers for `path`; with
/// `write`, also FSCTL_LOCK_VOLUME (unlocked at once) and IOCTL_DISK_UPDATE_PROPERTIES. Nothing
/// is written. Other platforms: ENOTSUP.
#[napi(ts_return_type = "Promise<Array<IoctlResult>>")]
pub fn probe_ioctls(path: String, write: bool) -> AsyncTask<ProbeTask> {
    AsyncTask::new(ProbeTask { path, write })
}
