//! Views: new strides over the same buffer, the same arithmetic on every
//! backend (a view costs no kernel).

use crate::array::{Array, DeviceData};
use crate::primitive::Primitive;

/// The values of `node` as a view of its inputs' `data`, where its
/// primitive is a view (or passes its last input through); `None` for
/// primitives that compute.
pub(crate) fn view_of(node: &Array, data: &[DeviceData]) -> Option<DeviceData> {
    Some(match node.primitive() {
        Primitive::Transpose(perm) => transpose(&data[0], perm),
        Primitive::Broadcast => broadcast_view(&data[0], node.inputs()[0].shape(), node.shape()),
        Primitive::Slice { start, step } => slice(&data[0], start, step),
        Primitive::Diagonal {
            offset,
            axis1,
            axis2,
        } => diagonal(&data[0], *offset, *axis1, *axis2),
        Primitive::StopGradient | Primitive::Custom(_) => data.last()?.clone(),
        _ => return None,
    })
}

/// `data` (of `shape`) broadcast to `to`: missing and size-1 axes get stride 0.
pub fn broadcast_view(data: &DeviceData, shape: &[usize], to: &[usize]) -> DeviceData {
    let lead = to.len() - shape.len();
    let strides = (0..to.len())
        .map(|d| {
            if d < lead || shape[d - lead] == 1 {
                0
            } else {
                data.strides[d - lead]
            }
        })
        .collect();
    DeviceData {
        buffer: data.buffer.clone(),
        strides,
        offset: data.offset,
    }
}

pub fn transpose(data: &DeviceData, perm: &[usize]) -> DeviceData {
    DeviceData {
        buffer: data.buffer.clone(),
        strides: perm.iter().map(|&p| data.strides[p]).collect(),
        offset: data.offset,
    }
}

pub fn slice(data: &DeviceData, start: &[usize], step: &[isize]) -> DeviceData {
    let offset = data.offset as isize
        + start
            .iter()
            .zip(&data.strides)
            .map(|(&s, &st)| s as isize * st)
            .sum::<isize>();
    let strides = data
        .strides
        .iter()
        .zip(step)
        .map(|(&s, &k)| s * k)
        .collect();
    DeviceData {
        buffer: data.buffer.clone(),
        strides,
        offset: offset as usize,
    }
}

pub fn diagonal(data: &DeviceData, offset: isize, axis1: usize, axis2: usize) -> DeviceData {
    let (s1, s2) = (data.strides[axis1], data.strides[axis2]);
    let start = if offset >= 0 {
        offset * s2
    } else {
        -offset * s1
    };
    let mut strides: Vec<isize> = (0..data.strides.len())
        .filter(|&d| d != axis1 && d != axis2)
        .map(|d| data.strides[d])
        .collect();
    strides.push(s1 + s2);
    DeviceData {
        buffer: data.buffer.clone(),
        strides,
        offset: (data.offset as isize + start) as usize,
    }
}

/// Strides for viewing `(shape, strides)` as `new_shape` without a copy,
/// when the layout allows (NumPy's no-copy reshape rule).
pub(crate) fn reshape_strides(
    shape: &[usize],
    strides: &[isize],
    new_shape: &[usize],
) -> Option<Vec<isize>> {
    // Drop size-1 axes; they constrain nothing.
    let old: Vec<(usize, isize)> = shape
        .iter()
        .zip(strides)
        .filter(|(&n, _)| n != 1)
        .map(|(&n, &s)| (n, s))
        .collect();
    let mut out = vec![0isize; new_shape.len()];
    let (mut oi, mut ni) = (0, 0);
    while ni < new_shape.len() {
        if new_shape[ni] == 1 {
            ni += 1;
            continue;
        }
        if oi >= old.len() {
            return None;
        }
        // Take old axes [oi, oj) and new axes [ni, nj) with equal products.
        let (mut np, mut op) = (new_shape[ni], old[oi].0);
        let (mut nj, mut oj) = (ni + 1, oi + 1);
        while np != op {
            if np < op {
                while nj < new_shape.len() && new_shape[nj] == 1 {
                    nj += 1;
                }
                if nj >= new_shape.len() {
                    return None;
                }
                np *= new_shape[nj];
                nj += 1;
            } else {
                if oj >= old.len() {
                    return None;
                }
                op *= old[oj].0;
                oj += 1;
            }
        }
        // The old group must itself be contiguous.
        for k in oi..oj - 1 {
            if old[k].1 != old[k + 1].1 * old[k + 1].0 as isize {
                return None;
            }
        }
        let mut step = old[oj - 1].1;
        for k in (ni..nj).rev() {
            out[k] = step;
            step *= new_shape[k] as isize;
        }
        oi = oj;
        ni = nj;
    }
    (oi == old.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::reshape_strides;

    #[test]
    fn reshape_views_follow_numpy_rules() {
        // Contiguous: any reshape is a view.
        assert_eq!(
            reshape_strides(&[2, 3, 4], &[12, 4, 1], &[6, 4]),
            Some(vec![4, 1])
        );
        assert_eq!(reshape_strides(&[6], &[1], &[2, 1, 3]), Some(vec![3, 3, 1]));
        // Transposed (3, 2) from (2, 3): merging axes needs a copy, splitting does not.
        assert_eq!(reshape_strides(&[3, 2], &[1, 3], &[6]), None);
        assert_eq!(
            reshape_strides(&[4, 2], &[1, 4], &[2, 2, 2]),
            Some(vec![2, 1, 4])
        );
        // A stepped slice keeps its step.
        assert_eq!(reshape_strides(&[4], &[2], &[2, 2]), Some(vec![4, 2]));
    }
}
