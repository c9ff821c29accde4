//! The one default GPU device: instance, adapter, device, queue, limits,
//! the buffer pool and the pipeline cache.

use super::encoder::{Batch, Encoder};
use super::limits::DeviceLimits;
use super::pool::{Buffer, MemoryStats, Pool};
use super::profile::Recording;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What kiln knows about the adapter it runs on.
#[derive(Debug, Clone)]
pub struct DeviceInfo {
    /// The adapter's name, e.g. `"llvmpipe (LLVM 15.0.6, 256 bits)"`.
    pub name: String,
    /// The graphics API underneath: Vulkan, Metal, Dx12, BrowserWebGpu...
    pub backend: String,
    /// Discrete, integrated, virtual or CPU.
    pub device_type: String,
    /// The driver, where the adapter reports one.
    pub driver: String,
    /// Whether `float16` arrays are available (`shader-f16`).
    pub shader_f16: bool,
    /// Whether float16 matmuls run on tensor cores (cooperative matrices).
    pub cooperative_matrix: bool,
    /// The largest storage buffer binding, in bytes.
    pub max_storage_binding_bytes: u64,
    /// The largest buffer, in bytes.
    pub max_buffer_bytes: u64,
    /// Workgroup (shared) memory per workgroup, in bytes.
    pub max_workgroup_storage_bytes: u32,
    /// Threads per workgroup.
    pub max_invocations_per_workgroup: u32,
    /// Storage buffers one kernel may bind (fused kernels read up to two
    /// fewer arrays).
    pub max_storage_buffers_per_kernel: u32,
    /// Whether arrays live in memory the host maps directly (CPU adapters,
    /// integrated GPUs, Apple silicon): uploads and readbacks then copy
    /// straight between the array's buffer and host memory, with no staging
    /// buffer and no copy on the GPU. Native only; `KILN_UNIFIED_MEMORY=0`
    /// turns it off.
    pub unified_memory: bool,
}

/// The GPU device with its pool and caches.
pub struct Device {
    /// The wgpu device.
    pub device: wgpu::Device,
    /// The queue work is submitted to.
    pub queue: wgpu::Queue,
    /// The adapter's limits and features that kernels use.
    pub limits: DeviceLimits,
    /// What is reported about the adapter.
    pub info: DeviceInfo,
    /// The pool that array buffers come from.
    pub pool: Pool,
    pipelines: Mutex<HashMap<String, Arc<Pipeline>>>,
    /// Work encoded but not yet submitted; the lock serialises evaluation
    /// (one graph is encoded at a time).
    pub(crate) pending: Mutex<Batch>,
    /// The first error the GPU reported asynchronously (a rejected shader,
    /// say), returned by the next read instead of wrong values.
    gpu_error: Arc<Mutex<Option<String>>>,
    /// Whether compute passes can be timestamped (for profiles).
    pub(crate) timestamps: bool,
    /// What is being recorded for a profile, while one is.
    pub(crate) profile: Mutex<Option<Recording>>,
    /// Why the device was lost, once it is.
    lost: Arc<Mutex<Option<String>>>,
}

/// A compute pipeline and the name it is cached under.
pub struct Pipeline {
    /// The wgpu pipeline.
    pub raw: wgpu::ComputePipeline,
    /// The kernel's name (for profiles).
    pub name: Arc<str>,
}

/// The default device once opened (or why it could not be). A device that
/// is lost stays here, failing every use, until `init` replaces it.
static DEVICE: Mutex<Option<std::result::Result<Arc<Device>, Error>>> = Mutex::new(None);

/// What to do when no adapter is found natively.
#[cfg(not(target_arch = "wasm32"))]
const NO_ADAPTER: &str = "no GPU adapter found. On Linux without a GPU install a \
    Vulkan software driver (Debian/Ubuntu: `apt-get install mesa-vulkan-drivers`)";

/// What to do when the page (or Node) offers no WebGPU adapter.
#[cfg(target_arch = "wasm32")]
const NO_ADAPTER: &str = "no WebGPU adapter: this browser has no navigator.gpu or gives no \
    adapter (use one with WebGPU enabled: Chrome or Edge 113+, Safari 26+, Firefox 141+). \
    In Node, the `webgpu` package (Dawn) provides navigator.gpu but rejects Mesa's lavapipe: \
    without a GPU, point VK_ICD_FILENAMES at SwiftShader's vk_swiftshader_icd.json (Chromium ships one)";

async fn create() -> Result<Device> {
    // Without WebGPU, making the instance would abort the module.
    #[cfg(target_arch = "wasm32")]
    if !wgpu::util::is_browser_webgpu_supported().await {
        return Err(Error::Device(NO_ADAPTER.into()));
    }
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = instance
        .request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        })
        .await
        .map_err(|e| Error::Device(format!("{NO_ADAPTER} ({e})")))?;
    let adapter_limits = adapter.limits();
    let shader_f16 = adapter.features().contains(wgpu::Features::SHADER_F16);
    let cooperative_f16 = shader_f16 && has_cooperative_f16(&adapter);
    let mut required_features = wgpu::Features::empty();
    if shader_f16 {
        required_features |= wgpu::Features::SHADER_F16;
    }
    if cooperative_f16 {
        required_features |= wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX;
    }
    let timestamps = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
    if timestamps {
        required_features |= wgpu::Features::TIMESTAMP_QUERY;
    }
    let unified_memory = shares_host_memory(&adapter);
    if unified_memory {
        required_features |= wgpu::Features::MAPPABLE_PRIMARY_BUFFERS;
    }
    let (device, queue) = adapter
        .request_device(&wgpu::DeviceDescriptor {
            label: Some("kiln"),
            required_features,
            required_limits: adapter_limits.clone(),
            experimental_features: if cooperative_f16 {
                // SAFETY: only the cooperative-matrix kernel uses the
                // experimental feature, on the configuration checked above.
                unsafe { wgpu::ExperimentalFeatures::enabled() }
            } else {
                wgpu::ExperimentalFeatures::disabled()
            },
            ..Default::default()
        })
        .await
        .map_err(|e| Error::Device(format!("could not open the GPU device: {e}")))?;
    let gpu_error = Arc::new(Mutex::new(None::<String>));
    let slot = gpu_error.clone();
    device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
        slot.lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert_with(|| e.to_string());
    }));
    let lost = Arc::new(Mutex::new(None::<String>));
    let slot = lost.clone();
    device.set_device_lost_callback(move |reason, message| {
        slot.lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert_with(|| lost_reason(reason, &message));
    });
    let raw = adapter.get_info();
    let limits = DeviceLimits {
        max_storage_binding_bytes: adapter_limits.max_storage_buffer_binding_size as u64,
        max_buffer_bytes: adapter_limits.max_buffer_size,
        max_workgroup_storage_bytes: adapter_limits.max_compute_workgroup_storage_size,
        max_invocations_per_workgroup: adapter_limits.max_compute_invocations_per_workgroup,
        storage_offset_alignment: adapter_limits.min_storage_buffer_offset_alignment,
        max_storage_buffers: adapter_limits.max_storage_buffers_per_shader_stage,
        shader_f16,
        cooperative_f16,
        cpu: raw.device_type == wgpu::DeviceType::Cpu,
    };
    let info = DeviceInfo {
        name: raw.name,
        backend: format!("{:?}", raw.backend),
        device_type: format!("{:?}", raw.device_type),
        driver: format!("{} {}", raw.driver, raw.driver_info)
            .trim()
            .to_string(),
        shader_f16,
        cooperative_matrix: cooperative_f16,
        max_storage_binding_bytes: limits.max_storage_binding_bytes,
        max_buffer_bytes: limits.max_buffer_bytes,
        max_workgroup_storage_bytes: limits.max_workgroup_storage_bytes,
        max_invocations_per_workgroup: limits.max_invocations_per_workgroup,
        max_storage_buffers_per_kernel: limits.max_storage_buffers,
        unified_memory,
    };
    Ok(Device {
        device,
        queue,
        limits,
        info,
        pool: Pool::new(unified_memory),
        pipelines: Mutex::new(HashMap::new()),
        pending: Mutex::new(Batch::default()),
        gpu_error,
        timestamps,
        profile: Mutex::new(None),
        lost,
    })
}

/// Whether the adapter's buffers are host memory that kiln can map while
/// kernels use them: a CPU adapter or an integrated GPU offering mappable
/// storage buffers (never in a browser, where WebGPU has no such feature).
fn shares_host_memory(adapter: &wgpu::Adapter) -> bool {
    let shared = matches!(
        adapter.get_info().device_type,
        wgpu::DeviceType::Cpu | wgpu::DeviceType::IntegratedGpu
    );
    let turned_off = std::env::var("KILN_UNIFIED_MEMORY").is_ok_and(|v| v == "0");
    !cfg!(target_arch = "wasm32")
        && shared
        && !turned_off
        && adapter
            .features()
            .contains(wgpu::Features::MAPPABLE_PRIMARY_BUFFERS)
}

/// Says why a device was lost, for the errors of every later use.
fn lost_reason(reason: wgpu::DeviceLostReason, message: &str) -> String {
    let why = match reason {
        wgpu::DeviceLostReason::Destroyed => "it was destroyed",
        _ => "the driver or browser lost it",
    };
    if message.is_empty() {
        why.to_string()
    } else {
        format!("{why}: {message}")
    }
}

/// Whether the adapter offers what the tensor-core matmul kernel needs:
/// 16 x 16 x 16 float16 cooperative matrices accumulating in float32, in
/// subgroups of exactly 32 invocations, and the workgroup memory its
/// streamed tiles take.
fn has_cooperative_f16(adapter: &wgpu::Adapter) -> bool {
    let info = adapter.get_info();
    adapter
        .features()
        .contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX)
        && info.subgroup_min_size == 32
        && info.subgroup_max_size == 32
        && adapter.limits().max_compute_workgroup_storage_size
            >= super::kernels::matmul::COOP_WORKGROUP_BYTES
        && adapter.cooperative_matrix_properties().iter().any(|p| {
            (p.m_size, p.n_size, p.k_size) == (16, 16, 16)
                && p.ab_type == wgpu::CooperativeScalarType::F16
                && p.cr_type == wgpu::CooperativeScalarType::F32
        })
}

/// Opens the default backend. Needed once before any evaluation in a
/// browser (where nothing may block), where it opens the GPU; natively the
/// backend opens on first use, and `init` opens the one `KILN_BACKEND`
/// names (`auto`, `gpu` or `cpu`; `auto` by default, see
/// [`init_with`](super::init_with)). After the device is lost (see
/// [`destroy_device`]), or failed to open, `init` opens a new one; arrays
/// computed on the old device cannot be used on the new one.
pub async fn init() -> Result<DeviceInfo> {
    #[cfg(not(target_arch = "wasm32"))]
    let kind = super::default_kind()?;
    #[cfg(target_arch = "wasm32")]
    let kind = super::BackendKind::Gpu;
    super::init_with(kind).await
}

/// Opens the GPU device (a new one after a loss); what it runs on.
pub(crate) async fn open() -> Result<DeviceInfo> {
    if let Some(Ok(dev)) = current() {
        if dev.lost_error().is_none() {
            return Ok(dev.info.clone());
        }
    }
    // Not holding the slot while the device opens: nothing may block in a
    // browser. Of two `init`s racing, the first to finish is kept.
    let created = create().await.map(Arc::new);
    let mut slot = DEVICE.lock().unwrap_or_else(|e| e.into_inner());
    let usable = matches!(&*slot, Some(Ok(d)) if d.lost_error().is_none());
    if !usable {
        *slot = Some(created);
    }
    slot.clone().expect("just set").map(|d| d.info.clone())
}

/// The device slot's content.
fn current() -> Option<Result<Arc<Device>>> {
    DEVICE.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The default device, opened on first use natively.
pub(crate) fn device() -> Result<Arc<Device>> {
    let found = {
        #[cfg_attr(target_arch = "wasm32", allow(unused_mut))]
        let mut slot = DEVICE.lock().unwrap_or_else(|e| e.into_inner());
        #[cfg(not(target_arch = "wasm32"))]
        if slot.is_none() {
            *slot = Some(pollster::block_on(create()).map(Arc::new));
        }
        slot.clone().ok_or_else(|| {
            Error::Device("call `kiln::init().await` before evaluating arrays in a browser".into())
        })??
    };
    match found.lost_error() {
        Some(e) => Err(e),
        None => Ok(found),
    }
}

/// Destroys the default device, as a driver reset or a browser's loss of
/// the device would: its memory is freed at once, and work queued on it,
/// arrays computed on it and every later evaluation fail with an error
/// saying so, until [`init`] opens a new device. Does nothing when no device
/// is open.
pub fn destroy_device() {
    if let Some(Ok(dev)) = current() {
        dev.lost
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert_with(|| lost_reason(wgpu::DeviceLostReason::Destroyed, ""));
        dev.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        dev.pool.clear();
        dev.device.destroy();
    }
}

/// The backend kiln runs on and its adapter (opens it natively if needed).
pub fn device_info() -> Result<DeviceInfo> {
    Ok(match super::active()? {
        super::Active::Gpu(dev) => dev.info.clone(),
        super::Active::Cpu => super::cpu::info(),
    })
}

/// Waits until the GPU has finished all evaluated work (native only; in a
/// browser, await a read instead). For timing.
#[cfg(not(target_arch = "wasm32"))]
pub fn synchronize() -> Result<()> {
    let super::Active::Gpu(dev) = super::active()? else {
        // The CPU backend computes as it evaluates.
        return Ok(());
    };
    dev.flush()?;
    dev.device
        .poll(wgpu::PollType::wait_indefinitely())
        .map(|_| ())
        .map_err(|e| Error::Eval(format!("waiting for the GPU failed: {e}")))
}

/// Bytes in use, peak and cached in the buffer pool, its buffers, and the
/// pipelines compiled; on the CPU backend, its buffers' bytes and peak.
pub fn memory_stats() -> MemoryStats {
    if super::on_cpu() {
        return super::cpu::memory_stats();
    }
    current()
        .and_then(|d| d.ok())
        // A lost device's memory is gone with it.
        .filter(|d| d.lost_error().is_none())
        .map(|d| MemoryStats {
            pipelines: d.pipelines.lock().unwrap_or_else(|e| e.into_inner()).len() as u64,
            ..d.pool.stats()
        })
        .unwrap_or_default()
}

/// Frees the buffers the pool keeps for reuse (submitting queued work
/// first, so that the buffers it no longer needs can go too).
pub fn clear_cache() {
    if let Some(Ok(d)) = current() {
        // A batch that fails to submit is reported by the next read.
        let _ = d.flush();
        d.pool.clear();
    }
}

/// Restarts peak tracking from the bytes in use now.
pub fn reset_peak_memory() {
    if super::on_cpu() {
        super::cpu::reset_peak_memory();
    } else if let Some(Ok(d)) = current() {
        d.pool.reset_peak();
    }
}

impl Device {
    /// The error every use of a lost device returns, once it is lost.
    pub(crate) fn lost_error(&self) -> Option<Error> {
        let lost = self.lost.lock().unwrap_or_else(|p| p.into_inner());
        lost.as_ref().map(|why| {
            Error::Device(format!(
                "the GPU device was lost ({why}); init() opens a new one, \
                 on which arrays computed before must be made again"
            ))
        })
    }

    /// Fails unless `buffer` was made by this device: an array computed
    /// on a device since lost, used after `init` opened a new one.
    pub(crate) fn check_owns(&self, buffer: &Buffer, op: &str) -> Result<()> {
        if self.pool.owns(buffer) {
            Ok(())
        } else {
            Err(Error::Device(format!(
                "{op}: an input was computed on a GPU device that has since been lost; make it again"
            )))
        }
    }

    /// Writes `bytes` at the start of `buffer`, ordered before the work
    /// queued but not yet submitted (so only into a buffer none of that
    /// work uses). With unified memory the bytes go straight into the
    /// buffer once earlier submitted work is done with it; else the queue
    /// stages them.
    pub(crate) fn write(&self, buffer: &wgpu::Buffer, bytes: &[u8]) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let size = (bytes.len() as u64).next_multiple_of(4);
        #[cfg(not(target_arch = "wasm32"))]
        if self.info.unified_memory {
            self.map_now(buffer, wgpu::MapMode::Write, 0..size)?;
            {
                let mut view = buffer
                    .get_mapped_range_mut(0..size)
                    .map_err(|e| Error::Eval(format!("mapping a buffer to upload failed: {e}")))?;
                view.slice(..bytes.len()).copy_from_slice(bytes);
                let tail = size as usize - bytes.len();
                view.slice(bytes.len()..).copy_from_slice(&[0u8; 3][..tail]);
            }
            buffer.unmap();
            return Ok(());
        }
        if bytes.len() as u64 == size {
            self.queue.write_buffer(buffer, 0, bytes);
        } else {
            let padded = [bytes, &[0u8; 3][..(size as usize - bytes.len())]].concat();
            self.queue.write_buffer(buffer, 0, &padded);
        }
        Ok(())
    }

    /// Maps `range` of `buffer`, waiting for submitted work that uses it:
    /// unified memory only, and only while no submission can start (the
    /// pending work's lock is held) until it is unmapped.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn map_now(
        &self,
        buffer: &wgpu::Buffer,
        mode: wgpu::MapMode,
        range: std::ops::Range<u64>,
    ) -> Result<()> {
        let outcome = Arc::new(Mutex::new(None));
        let slot = outcome.clone();
        buffer.map_async(mode, range, move |result| {
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
        });
        let waiting = |poll| {
            self.device
                .poll(poll)
                .map_err(|e| Error::Eval(format!("waiting for the GPU failed: {e}")))?;
            Ok::<_, Error>(outcome.lock().unwrap_or_else(|p| p.into_inner()).take())
        };
        // A buffer no submitted work uses maps without waiting for the GPU.
        let mapped = match waiting(wgpu::PollType::Poll)? {
            Some(mapped) => mapped,
            None => waiting(wgpu::PollType::wait_indefinitely())?.ok_or_else(|| {
                Error::Eval("the GPU did not map a buffer after finishing its work".into())
            })?,
        };
        mapped?;
        self.take_gpu_error()
    }

    /// `len` bytes of `buffer` from `offset`, decoded in place once the
    /// work that writes them is done (unified memory only).
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn read_mapped<T>(
        &self,
        buffer: &wgpu::Buffer,
        offset: u64,
        len: usize,
        decode: impl FnOnce(&[u8]) -> Vec<T>,
    ) -> Result<Vec<T>> {
        // No submission may use the buffer while it is mapped.
        let _no_submissions = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let start = offset - offset % wgpu::MAP_ALIGNMENT;
        let end = (offset + len as u64).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT);
        self.map_now(buffer, wgpu::MapMode::Read, start..end)?;
        let out = buffer
            .get_mapped_range(start..end)
            .map(|view| {
                let skip = (offset - start) as usize;
                decode(&view[skip..skip + len])
            })
            .map_err(|e| Error::Eval(format!("mapping a buffer to read it failed: {e}")));
        buffer.unmap();
        out
    }

    /// Queues a copy of `size` bytes of `source` from `offset` into
    /// `staging`, to be submitted after the work queued so far.
    pub(crate) fn read_back(
        &self,
        source: Arc<Buffer>,
        offset: u64,
        staging: wgpu::Buffer,
        size: u64,
    ) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .read_back(source, offset, staging, size);
    }

    /// Submits the work that evaluations have queued, if any.
    pub(crate) fn flush(self: &Arc<Self>) -> Result<()> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let batch = std::mem::take(&mut *pending);
        if batch.is_empty() {
            return Ok(());
        }
        let submitted = Encoder::resume(self.clone(), batch).submit();
        self.pool.settle();
        if let Err(e) = &submitted {
            // Arrays of the batch look evaluated: their next read must fail.
            self.gpu_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert_with(|| e.to_string());
        }
        submitted
    }

    /// Fails with the first asynchronous GPU error since the last call, if any.
    pub(crate) fn take_gpu_error(&self) -> Result<()> {
        match self
            .gpu_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            Some(e) => Err(Error::Eval(format!("the GPU rejected work: {e}"))),
            None => Ok(()),
        }
    }

    /// A buffer of at least `bytes` bytes (at least 4) from the pool, for
    /// data written before a submission's kernels run (uploads, parameters).
    pub fn alloc(&self, bytes: u64) -> Result<Arc<Buffer>> {
        self.alloc_from_pool(bytes, false)
    }

    /// A buffer for a kernel's output: it may be one that earlier kernels
    /// of the same submission no longer need.
    pub fn alloc_output(&self, bytes: u64) -> Result<Arc<Buffer>> {
        self.alloc_from_pool(bytes, true)
    }

    fn alloc_from_pool(&self, bytes: u64, kernel_output: bool) -> Result<Arc<Buffer>> {
        if bytes > self.limits.max_storage_binding_bytes {
            return Err(Error::Eval(format!(
                "an array of {bytes} bytes exceeds this adapter's largest storage binding ({} bytes)",
                self.limits.max_storage_binding_bytes
            )));
        }
        Ok(self.pool.alloc(
            &self.device,
            bytes.max(4).next_multiple_of(4),
            kernel_output,
        ))
    }

    /// The compute pipeline named `key` (entry point `main`), built from
    /// `source()` on first use.
    pub fn pipeline(&self, key: &str, source: impl FnOnce() -> String) -> Arc<Pipeline> {
        self.pipeline_at(key, "main", source)
    }

    /// The compute pipeline named `key` with entry point `entry`.
    pub fn pipeline_at(
        &self,
        key: &str,
        entry: &str,
        source: impl FnOnce() -> String,
    ) -> Arc<Pipeline> {
        self.build_pipeline(key, entry, false, source)
    }

    /// The compute pipeline named `key` with entry point `entry`, built
    /// without runtime bounds checks or loop bounding: only for kernels
    /// whose every access is inside its buffer by construction, and whose
    /// loops end (their tests cover the edges).
    pub fn trusted_pipeline(
        &self,
        key: &str,
        entry: &str,
        source: impl FnOnce() -> String,
    ) -> Arc<Pipeline> {
        self.build_pipeline(key, entry, true, source)
    }

    fn build_pipeline(
        &self,
        key: &str,
        entry: &str,
        trusted: bool,
        source: impl FnOnce() -> String,
    ) -> Arc<Pipeline> {
        let mut cache = self.pipelines.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = cache.get(key) {
            return p.clone();
        }
        let descriptor = wgpu::ShaderModuleDescriptor {
            label: Some(key),
            source: wgpu::ShaderSource::Wgsl(source().into()),
        };
        let module = if trusted {
            // SAFETY: callers pass only kernels whose indices are clamped
            // into their buffers and whose loops are bounded (see above).
            unsafe {
                self.device.create_shader_module_trusted(
                    descriptor,
                    wgpu::ShaderRuntimeChecks::unchecked(),
                )
            }
        } else {
            self.device.create_shader_module(descriptor)
        };
        let pipeline = Arc::new(Pipeline {
            raw: self
                .device
                .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(key),
                    layout: None,
                    module: &module,
                    entry_point: Some(entry),
                    compilation_options: Default::default(),
                    cache: None,
                }),
            name: key.into(),
        });
        cache.insert(key.to_string(), pipeline.clone());
        pipeline
    }
}
