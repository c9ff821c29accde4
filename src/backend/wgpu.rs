//! The wgpu backend: [`Backend`] over the [`Device`], its batch of queued
//! work and its kernels. A batch is submitted once it holds [`SUBMIT_AT`]
//! dispatches, or when anything is read back or synchronised: a submission
//! costs tens of microseconds of CPU time, a dispatch a few.

use super::device::Device;
use super::encoder::{Batch, Encoder, Mark};
use super::kernels;
use super::limits::KernelLimits;
use super::pool::Buffer;
use super::Backend;
use crate::array::{is_contiguous, Array, DeviceData};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use std::sync::{Arc, MutexGuard};

/// Queued dispatches that make a batch worth submitting.
pub(crate) const SUBMIT_AT: usize = 32;

/// The device's queued work, held for one evaluation.
pub(crate) struct WgpuBatch<'a> {
    pending: MutexGuard<'a, Batch>,
    encoder: Encoder,
    /// Where this evaluation's work starts.
    mark: Mark,
    queued_before: usize,
}

impl WgpuBatch<'_> {
    /// A contiguous copy of a view, queued in this batch.
    pub(crate) fn copy(
        &mut self,
        data: &DeviceData,
        shape: &[usize],
        dtype: DType,
    ) -> Result<DeviceData> {
        self.encoder.set_op("copy");
        kernels::elementwise::copy(&mut self.encoder, data, shape, dtype)
    }
}

impl Backend for Arc<Device> {
    type Batch<'a> = WgpuBatch<'a>;

    fn kernel_limits(&self) -> KernelLimits {
        kernels::kernel_limits(self)
    }

    fn begin(&self) -> WgpuBatch<'_> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let encoder = Encoder::resume(self.clone(), std::mem::take(&mut *pending));
        // Buffers given back from now on may still be used by queued work.
        self.pool.defer();
        WgpuBatch {
            pending,
            mark: encoder.mark(),
            queued_before: encoder.dispatch_count(),
            encoder,
        }
    }

    fn encode(&self, batch: &mut WgpuBatch<'_>, node: &Array) -> Result<DeviceData> {
        for input in node.inputs().iter() {
            if let Some(data) = input.device_data() {
                self.check_owns(
                    &*data.wgpu_buffer(node.primitive().name())?,
                    node.primitive().name(),
                )?;
            }
        }
        batch.encoder.set_op(node.primitive().name());
        kernels::encode(&mut batch.encoder, node)
    }

    fn dispatches(batch: &WgpuBatch<'_>) -> usize {
        batch.encoder.dispatch_count() - batch.queued_before
    }

    fn abandon(&self, batch: &mut WgpuBatch<'_>) {
        batch.encoder.truncate(batch.mark);
    }

    async fn read<T: Element>(&self, data: &DeviceData, shape: &[usize]) -> Result<Vec<T>> {
        let dtype = T::DTYPE;
        let bytes = (shape.iter().product::<usize>() * dtype.device_size()) as u64;
        if bytes == 0 {
            return Ok(Vec::new());
        }
        let dev = self;
        dev.check_owns(&*data.wgpu_buffer("readback")?, "readback")?;
        let mut data = data.clone();
        let aligned = (data.offset * dtype.device_size()).is_multiple_of(4);
        if !is_contiguous(shape, &data.strides) || !aligned {
            // A contiguous copy, queued after the work that computes the view.
            let mut batch = dev.begin();
            let copied = batch.copy(&data, shape, dtype);
            dev.finish(batch)?;
            data = copied?;
        }
        let offset = (data.offset * dtype.device_size()) as u64;
        #[cfg(not(target_arch = "wasm32"))]
        if dev.info.unified_memory {
            dev.flush()?;
            return dev.read_mapped(data.gpu().raw(), offset, bytes as usize, T::decode);
        }
        let size = bytes.next_multiple_of(4);
        let staging = dev.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("kiln readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        dev.read_back(data.gpu(), offset, staging.clone(), size);
        // Reads started together (`Promise.all` of several `data()`) queue
        // their copies before the first of them submits: one submission.
        yield_now().await;
        dev.flush()?;
        let (sender, receiver) = futures_channel::oneshot::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |result| {
            let _ = sender.send(result);
        });
        #[cfg(not(target_arch = "wasm32"))]
        dev.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Eval(format!("waiting for the GPU failed: {e}")))?;
        receiver
            .await
            .map_err(|_| Error::Eval("the GPU device was lost during readback".into()))??;
        dev.take_gpu_error()?;
        let view = staging
            .get_mapped_range(..)
            .map_err(|e| Error::Eval(format!("mapping a readback buffer failed: {e}")))?;
        let out = T::decode(&view[..bytes as usize]);
        drop(view);
        staging.unmap();
        Ok(out)
    }

    fn finish(&self, batch: WgpuBatch<'_>) -> Result<()> {
        let WgpuBatch {
            mut pending,
            encoder,
            ..
        } = batch;
        let full = encoder.dispatch_count() >= SUBMIT_AT;
        *pending = encoder.into_batch();
        if pending.is_empty() {
            self.pool.settle();
        }
        drop(pending);
        if full {
            self.flush()
        } else {
            Ok(())
        }
    }
}

impl DeviceData {
    /// The wgpu buffer under a view the wgpu backend made (checked for every
    /// input as a node is encoded, by [`DeviceData::wgpu_buffer`]).
    pub(crate) fn gpu(&self) -> Arc<Buffer> {
        Arc::downcast(self.buffer.clone()).expect("a view of a wgpu buffer")
    }

    /// The wgpu buffer under the view, or an error naming `op` where
    /// another backend made it.
    pub(crate) fn wgpu_buffer(&self, op: &str) -> Result<Arc<Buffer>> {
        #[cfg(not(target_arch = "wasm32"))]
        return Arc::downcast(self.buffer.clone())
            .map_err(|_| super::mixed_backends(op, "CPU", "GPU"));
        // The web build has one backend.
        #[cfg(target_arch = "wasm32")]
        {
            let _ = op;
            Ok(self.gpu())
        }
    }
}

/// Lets the other tasks ready to run go first, once.
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}
