//! The wgpu backend: [`Backend`] over the [`Device`], its batch of queued
//! work and its kernels. A batch is submitted once it holds [`SUBMIT_AT`]
//! dispatches, or when anything is read back or synchronised: a submission
//! costs tens of microseconds of CPU time, a dispatch a few.

use super::device::Device;
use super::encoder::{Batch, Encoder, Mark};
use super::kernels;
use super::limits::KernelLimits;
use super::Backend;
use crate::array::{Array, DeviceData};
use crate::dtype::DType;
use crate::error::Result;
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
        kernels::elementwise::copy(&mut self.encoder, data, shape, dtype)
    }
}

impl Backend for Arc<Device> {
    type Batch<'a> = WgpuBatch<'a>;

    fn kernel_limits(&self) -> KernelLimits {
        kernels::kernel_limits()
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
        kernels::encode(&mut batch.encoder, node)
    }

    fn dispatches(batch: &WgpuBatch<'_>) -> usize {
        batch.encoder.dispatch_count() - batch.queued_before
    }

    fn abandon(&self, batch: &mut WgpuBatch<'_>) {
        batch.encoder.truncate(batch.mark);
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
