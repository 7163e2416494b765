//! napi layer for the recover hunt's native pass (`search`, `mapped`): `searchFile` runs on the
//! libuv thread pool (AsyncTask) over a descriptor the JS side holds open.

use crate::search;
#[cfg(unix)]
use crate::to_napi;
use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;

/// What `searchFile` looks for: see `search::Request`.
#[napi(object)]
pub struct SearchOptions {
    pub from: f64,
    pub to: f64,
    pub size: f64,
    pub signature: Buffer,
    pub step: u32,
    pub hit_length: u32,
    pub probe_every: u32,
    pub probe_length: u32,
    pub max_hits: u32,
}

/// What `searchFile` found in [from, end): hits with their bytes, and probes with theirs.
#[napi(object)]
pub struct SearchResult {
    pub end: f64,
    /// The file ended before the size it was searched with: it shrank after it was opened.
    pub short: bool,
    pub hits: Vec<f64>,
    pub hit_bytes: Buffer,
    pub hit_lengths: Vec<u32>,
    pub probes: Vec<f64>,
    pub probe_bytes: Buffer,
}

// Elsewhere than Unix the task only refuses (see compute), so its fields go unread.
#[cfg_attr(not(unix), allow(dead_code))]
pub struct SearchTask {
    fd: i32,
    request: search::Request,
}

impl Task for SearchTask {
    type Output = search::Found;
    type JsValue = SearchResult;
    #[cfg(unix)]
    fn compute(&mut self) -> Result<search::Found> {
        use std::os::unix::fs::FileExt;
        use std::os::unix::io::FromRawFd;
        // SAFETY: the descriptor belongs to the caller's open file, which stays open until this
        // call's promise settles (the recover pass closes the disk only after every search ends);
        // ManuallyDrop keeps this File from closing it.
        let file = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(self.fd) });
        // Mapped where it can be (Linux), and read where it cannot, or where the mapping faulted.
        #[cfg(target_os = "linux")]
        if let Some(found) = crate::mapped::search(&file, &self.request) {
            return found.map_err(|e| to_napi(e, "cannot read the image"));
        }
        let read_at = |buf: &mut [u8], offset: u64| file.read_at(buf, offset);
        search::search(&mut search::ReadPieces::new(&read_at, &self.request), &self.request).map_err(|e| to_napi(e, "cannot read the image"))
    }
    #[cfg(not(unix))]
    fn compute(&mut self) -> Result<search::Found> {
        Err(Error::new(Status::GenericFailure, "ENOTSUP: searchFile takes a POSIX file descriptor"))
    }
    fn resolve(&mut self, _env: Env, found: search::Found) -> Result<SearchResult> {
        Ok(SearchResult {
            end: found.end as f64,
            short: found.short,
            hits: found.hits.into_iter().map(|h| h as f64).collect(),
            hit_bytes: found.hit_bytes.into(),
            hit_lengths: found.hit_lengths,
            probes: found.probes.into_iter().map(|p| p as f64).collect(),
            probe_bytes: found.probe_bytes.into(),
        })
    }
}

/// The recover hunt's pass over [from, to) of an open image file (a POSIX descriptor, on a libuv
/// thread; mapped on Linux, read with pread elsewhere): signatures at multiples of `step`, and the
/// bytes at each probe boundary. Unix only; elsewhere the promise rejects with ENOTSUP.
#[napi(ts_return_type = "Promise<SearchResult>")]
pub fn search_file(fd: i32, options: SearchOptions) -> Result<AsyncTask<SearchTask>> {
    if options.step == 0 || options.probe_every == 0 || options.signature.is_empty() {
        return Err(Error::new(
            Status::InvalidArg,
            "EINVAL: searchFile needs a signature, a step and a probe interval",
        ));
    }
    Ok(AsyncTask::new(SearchTask {
        fd,
        request: search::Request {
            from: options.from as u64,
            to: options.to as u64,
            size: options.size as u64,
            signature: options.signature.to_vec(),
            step: options.step as u64,
            hit_length: options.hit_length as usize,
            probe_every: options.probe_every as u64,
            probe_length: options.probe_length as usize,
            max_hits: options.max_hits.max(1) as usize,
        },
    }))
}
