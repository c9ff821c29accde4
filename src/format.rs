//! Printing arrays the way NumPy's `repr` does.

use crate::array::Array;
use crate::dtype::DType;
use crate::error::fmt_shape;

/// Arrays with more elements print only their edges.
const SUMMARY_THRESHOLD: usize = 1000;
const EDGE_ITEMS: usize = 3;

/// Formats one float without trailing zeros, NumPy style (`1.`, `2.5`, `nan`).
fn format_float(v: f64, scientific: bool) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if scientific {
        let s = format!("{:e}", v as f32);
        let s = if s.contains('.') {
            s
        } else {
            s.replacen('e', ".e", 1)
        };
        let (mantissa, exp) = s.split_once('e').expect("scientific format");
        let mantissa = if mantissa.len() > 10 {
            &mantissa[..10]
        } else {
            mantissa
        };
        let exp: i32 = exp.parse().expect("exponent");
        return format!(
            "{mantissa}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        );
    }
    // The shortest text that reads back as the same float32, at most 8 decimals.
    let short = format!("{}", v as f32);
    let s = match short.split_once('.') {
        Some((_, frac)) if frac.len() > 8 => format!("{:.8}", v).trim_end_matches('0').to_string(),
        Some(_) => short,
        None => format!("{short}."),
    };
    s
}

/// The text of every element, padded to a common width.
fn element_strings(values: &[f64], dtype: DType) -> Vec<String> {
    let raw: Vec<String> = match dtype {
        DType::Bool => values
            .iter()
            .map(|&v| {
                if v != 0.0 {
                    "True".into()
                } else {
                    "False".into()
                }
            })
            .collect(),
        DType::I32 | DType::U32 => values.iter().map(|&v| format!("{}", v as i64)).collect(),
        DType::F16 | DType::F32 => {
            let finite: Vec<f64> = values
                .iter()
                .copied()
                .filter(|v| v.is_finite() && *v != 0.0)
                .map(f64::abs)
                .collect();
            // NumPy's rule for switching to scientific notation.
            let (lo, hi) = finite.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
            let scientific = hi >= 1e8 || lo < 1e-4 || (hi > 0.0 && hi / lo > 1e3);
            values
                .iter()
                .map(|&v| format_float(v, scientific))
                .collect()
        }
    };
    if dtype.is_float() {
        // Align the decimal points: pad integer parts left and fractions
        // right; nan and inf align right to the full width.
        let parts: Vec<Option<(&str, &str)>> = raw.iter().map(|s| s.split_once('.')).collect();
        let int_w = parts
            .iter()
            .flatten()
            .map(|(i, _)| i.len())
            .max()
            .unwrap_or(0);
        let frac_w = parts
            .iter()
            .flatten()
            .map(|(_, f)| f.len())
            .max()
            .unwrap_or(0);
        let numbers: Vec<String> = raw
            .iter()
            .zip(&parts)
            .map(|(s, p)| match p {
                Some((i, f)) => format!("{i:>int_w$}.{f:<frac_w$}"),
                None => s.clone(),
            })
            .collect();
        let width = numbers.iter().map(String::len).max().unwrap_or(0);
        return numbers
            .into_iter()
            .map(|s| format!("{s:>width$}"))
            .collect();
    }
    let width = raw.iter().map(String::len).max().unwrap_or(0);
    raw.into_iter().map(|s| format!("{s:>width$}")).collect()
}

/// The indices shown along an axis of length `n`, with `None` for the ellipsis.
fn shown(n: usize, summarize: bool) -> Vec<Option<usize>> {
    if summarize && n > 2 * EDGE_ITEMS {
        (0..EDGE_ITEMS)
            .map(Some)
            .chain([None])
            .chain((n - EDGE_ITEMS..n).map(Some))
            .collect()
    } else {
        (0..n).map(Some).collect()
    }
}

/// What [`nest`] needs besides the position: the element texts and layout.
struct Grid<'a> {
    items: &'a [String],
    indent: usize,
    summarize: bool,
}

fn nest(
    out: &mut String,
    grid: &Grid,
    shape: &[usize],
    strides: &[usize],
    base: usize,
    depth: usize,
) {
    if shape.is_empty() {
        out.push_str(grid.items[base].trim_end());
        return;
    }
    out.push('[');
    let last = shape.len() == 1;
    for (k, i) in shown(shape[0], grid.summarize).iter().enumerate() {
        if k > 0 {
            if last {
                out.push_str(", ");
            } else {
                out.push(',');
                out.push_str(&"\n".repeat(shape.len() - 1));
                out.push_str(&" ".repeat(grid.indent + depth + 1));
            }
        }
        match i {
            None => out.push_str("..."),
            Some(i) if last => out.push_str(&grid.items[base + i * strides[0]]),
            Some(i) => nest(
                out,
                grid,
                &shape[1..],
                &strides[1..],
                base + i * strides[0],
                depth + 1,
            ),
        }
    }
    out.push(']');
}

/// NumPy's `repr` of values of `shape` and `dtype`.
pub(crate) fn repr(values: &[f64], shape: &[usize], dtype: DType) -> String {
    let suffix = if dtype == DType::Bool {
        String::new()
    } else {
        format!(", dtype={dtype}")
    };
    let size: usize = shape.iter().product();
    if size == 0 {
        let shape_note = if shape.len() == 1 {
            String::new()
        } else {
            format!(", shape={}", fmt_shape(shape))
        };
        return format!("array([]{shape_note}{suffix})");
    }
    let summarize = size > SUMMARY_THRESHOLD;
    // Only the shown elements take part in the column width.
    let mut strides = vec![1usize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1];
    }
    let mut picked = vec![false; size];
    mark(&mut picked, shape, &strides, 0, summarize);
    let chosen: Vec<f64> = values
        .iter()
        .zip(&picked)
        .filter(|(_, &p)| p)
        .map(|(&v, _)| v)
        .collect();
    let mut formatted = element_strings(&chosen, dtype).into_iter();
    let items: Vec<String> = picked
        .iter()
        .map(|&p| {
            if p {
                formatted.next().expect("one per pick")
            } else {
                String::new()
            }
        })
        .collect();
    let mut body = String::new();
    let grid = Grid {
        items: &items,
        indent: "array(".len(),
        summarize,
    };
    nest(&mut body, &grid, shape, &strides, 0, 0);
    format!("array({body}{suffix})")
}

fn mark(picked: &mut [bool], shape: &[usize], strides: &[usize], base: usize, summarize: bool) {
    if shape.is_empty() {
        picked[base] = true;
        return;
    }
    for i in shown(shape[0], summarize).into_iter().flatten() {
        mark(
            picked,
            &shape[1..],
            &strides[1..],
            base + i * strides[0],
            summarize,
        );
    }
}

impl Array {
    /// NumPy's `repr` of the array, read back asynchronously.
    pub async fn to_string_async(&self) -> crate::Result<String> {
        let values = self.to_f64_vec_async().await?;
        Ok(repr(&values, self.shape(), self.dtype()))
    }
}

/// Prints like NumPy's `repr` (natively; evaluates and reads the array back).
/// In a browser, where nothing may block, use [`Array::to_string_async`].
impl std::fmt::Display for Array {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        #[cfg(not(target_arch = "wasm32"))]
        match pollster::block_on(self.to_string_async()) {
            Ok(s) => f.write_str(&s),
            Err(e) => write!(
                f,
                "array(<{e}>, shape={}, dtype={})",
                fmt_shape(self.shape()),
                self.dtype()
            ),
        }
        #[cfg(target_arch = "wasm32")]
        write!(
            f,
            "array(<not read back>, shape={}, dtype={})",
            fmt_shape(self.shape()),
            self.dtype()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::repr;
    use crate::DType;

    #[test]
    fn prints_like_numpy() {
        assert_eq!(
            repr(&[1.0, 2.5, -3.0], &[3], DType::F32),
            "array([ 1. ,  2.5, -3. ], dtype=float32)"
        );
        assert_eq!(
            repr(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::I32),
            "array([[1, 2],\n       [3, 4]], dtype=int32)"
        );
        assert_eq!(
            repr(&[1.0, 0.0], &[2], DType::Bool),
            "array([ True, False])"
        );
        assert_eq!(repr(&[2.0], &[], DType::F32), "array(2., dtype=float32)");
        assert_eq!(
            repr(&[], &[0, 3], DType::F32),
            "array([], shape=(0, 3), dtype=float32)"
        );
        assert_eq!(
            repr(&[f64::NAN, 1.0], &[2], DType::F32),
            "array([nan,  1.], dtype=float32)"
        );
        assert_eq!(
            repr(&[1e-5, 1.0], &[2], DType::F32),
            "array([1.e-05, 1.e+00], dtype=float32)"
        );
        let long: Vec<f64> = (0..2000).map(f64::from).collect();
        assert_eq!(
            repr(&long, &[2000], DType::I32),
            "array([   0,    1,    2, ..., 1997, 1998, 1999], dtype=int32)"
        );
    }
}
