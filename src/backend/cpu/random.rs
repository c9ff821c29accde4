//! Threefry-2x32 (20 rounds) on the CPU, bit for bit the kernel's and
//! JAX's.

use super::{load, stored, Values};
use crate::array::DeviceData;
use crate::dtype::DType;
use crate::error::{Error, Result};

type Operand<'a> = (&'a DeviceData, &'a [usize], DType);

/// The rotations of the rounds, in groups of four alternating between these.
const ROTATIONS: [[u32; 4]; 2] = [[13, 15, 26, 6], [17, 29, 16, 24]];

/// threefry2x32 of the counter pair `(c0, c1)` under `key`.
pub(crate) fn threefry2x32(key: [u32; 2], (c0, c1): (u32, u32)) -> (u32, u32) {
    let ks = [key[0], key[1], key[0] ^ key[1] ^ 0x1BD1_1BDA];
    let (mut x0, mut x1) = (c0.wrapping_add(ks[0]), c1.wrapping_add(ks[1]));
    for group in 0..5 {
        for &r in &ROTATIONS[group % 2] {
            x0 = x0.wrapping_add(x1);
            x1 = x1.rotate_left(r) ^ x0;
        }
        // The key schedule: after group g, keys g+1 and g+2 and the count.
        let i = group + 1;
        x0 = x0.wrapping_add(ks[i % 3]);
        x1 = x1.wrapping_add(ks[(i + 1) % 3]).wrapping_add(i as u32);
    }
    (x0, x1)
}

fn words(operand: Operand, op: &str) -> Result<Vec<u32>> {
    match load(operand.0, operand.1, op)? {
        Values::U(v) => Ok(v),
        _ => Err(Error::Eval(format!("{op}: needs uint32 words"))),
    }
}

/// The `Threefry` node: each pair of `counts` (shape (..., 2)) hashed
/// under `key` (2 words).
pub(crate) fn threefry(key: Operand, counts: Operand, shape: &[usize]) -> Result<DeviceData> {
    let key = words(key, "threefry2x32")?;
    let key = [key[0], key[1]];
    let counts = words(counts, "threefry2x32")?;
    let mut out = Vec::with_capacity(counts.len());
    for pair in counts.chunks(2) {
        let (a, b) = threefry2x32(key, (pair[0], pair[1]));
        out.extend([a, b]);
    }
    Ok(stored(Values::U(out), DType::U32, shape))
}

#[cfg(test)]
mod tests {
    use super::threefry2x32;

    #[test]
    fn threefry_matches_the_reference_vectors() {
        // The Random123 known-answer tests for threefry2x32_20.
        assert_eq!(threefry2x32([0, 0], (0, 0)), (0x6b20_0159, 0x99ba_4efe));
        assert_eq!(
            threefry2x32([u32::MAX, u32::MAX], (u32::MAX, u32::MAX)),
            (0x1cb9_96fc, 0xbb00_2be7)
        );
        assert_eq!(
            threefry2x32([0x1319_8a2e, 0x0370_7344], (0x243f_6a88, 0x85a3_08d3)),
            (0xc492_3a9c, 0x483d_f7a0)
        );
    }
}
