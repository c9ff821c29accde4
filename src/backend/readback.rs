//! Reading arrays back to the host, asynchronously on every target.

use super::device::device;
use super::Backend;
use crate::array::{is_contiguous, Array};
use crate::error::{Error, Result};

/// The bytes of an evaluated array, row-major, as the GPU stores them.
pub(crate) async fn read_bytes(array: &Array) -> Result<Vec<u8>> {
    let bytes = (array.size() * array.dtype().device_size()) as u64;
    if bytes == 0 {
        return Ok(Vec::new());
    }
    let mut data = array
        .device_data()
        .ok_or_else(|| Error::Eval("readback of an array that is not evaluated".into()))?;
    let dev = device()?;
    let aligned = (data.offset * array.dtype().device_size()).is_multiple_of(4);
    if !is_contiguous(array.shape(), &data.strides) || !aligned {
        // A contiguous copy, queued after the work that computes the view.
        let mut batch = dev.begin();
        let copied = batch.copy(&data, array.shape(), array.dtype());
        dev.finish(batch)?;
        data = copied?;
    }
    dev.flush()?;
    let offset = (data.offset * array.dtype().device_size()) as u64;
    let size = bytes.next_multiple_of(4);
    let staging = dev.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("kiln readback"),
        size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = dev
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("kiln readback"),
        });
    encoder.copy_buffer_to_buffer(data.buffer.raw(), offset, &staging, 0, size);
    dev.queue.submit(Some(encoder.finish()));
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
    let out = view[..bytes as usize].to_vec();
    drop(view);
    staging.unmap();
    Ok(out)
}
