//! safetensors files from untrusted sources (the network, a user's upload):
//! malformed headers, bad offsets, absurd shapes, huge header lengths and
//! wrong dtypes are errors naming the loader, never panics, and no input
//! makes the loader allocate far more than the file's own size.

mod common;

use kiln::io::from_safetensors_bytes;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, recording the largest single request.
struct Watched;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Watched {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Watched = Watched;

/// No single allocation while loading may exceed this (every input here
/// is a few kilobytes; the device and its pools are opened beforehand).
const ALLOCATION_CAP: usize = 16 << 20;

/// Loads `bytes`, requiring an `Ok` or an error that names the loader, no
/// panic, and no allocation over the cap; returns whether it loaded.
fn load(bytes: &[u8]) -> Result<bool, String> {
    LARGEST.store(0, Ordering::Relaxed);
    // What loads must also evaluate and read back.
    let outcome = std::panic::catch_unwind(|| {
        let (arrays, _) = from_safetensors_bytes(bytes)?;
        for a in arrays.values() {
            pollster::block_on(a.to_f64_vec_async())?;
        }
        kiln::Result::Ok(())
    });
    let largest = LARGEST.load(Ordering::Relaxed);
    if largest > ALLOCATION_CAP {
        return Err(format!("allocated {largest} bytes at once"));
    }
    match outcome {
        Err(_) => Err("panicked".into()),
        Ok(Ok(_)) => Ok(true),
        Ok(Err(e)) if e.to_string().contains("load_safetensors") => Ok(false),
        Ok(Err(e)) => Err(format!("an error that does not name the loader: {e}")),
    }
}

/// A file made of `header` (JSON) and `data`, with an honest length field.
fn file(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// Opens the device, so that its one-time allocations are not counted.
fn warm_up() {
    let ok = file(
        r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
        &[0; 8],
    );
    assert_eq!(load(&ok), Ok(true));
}

#[test]
fn hostile_headers_are_errors() {
    warm_up();
    let tensor = |dtype: &str, shape: &str, offsets: &str| {
        format!(r#"{{"t":{{"dtype":"{dtype}","shape":{shape},"data_offsets":{offsets}}}}}"#)
    };
    let huge_length = {
        let mut bytes = u64::MAX.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"{}");
        bytes
    };
    let claims_more = {
        let mut bytes = 1_000_000u64.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"{}");
        bytes
    };
    let deep = format!(
        r#"{{"t":{{"dtype":"F32","shape":[{}],"data_offsets":[0,4]}}}}"#,
        vec!["1"; 4096].join(",")
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("short length field", vec![1, 2, 3]),
        ("header length u64::MAX", huge_length),
        ("header longer than the file", claims_more),
        (
            "not UTF-8",
            file("\u{0}", &[]).into_iter().chain([0xff]).collect(),
        ),
        ("invalid UTF-8 header", {
            let mut bytes = 2u64.to_le_bytes().to_vec();
            bytes.extend_from_slice(&[0xc3, 0x28]);
            bytes
        }),
        ("not JSON", file("{not json", &[])),
        ("JSON array", file("[1,2,3]", &[])),
        ("tensor not an object", file(r#"{"t":5}"#, &[])),
        (
            "unknown dtype",
            file(&tensor("F128", "[1]", "[0,16]"), &[0; 16]),
        ),
        (
            "negative shape",
            file(&tensor("F32", "[-1]", "[0,4]"), &[0; 4]),
        ),
        (
            "fractional shape",
            file(&tensor("F32", "[1.5]", "[0,4]"), &[0; 4]),
        ),
        (
            "offsets past the end",
            file(&tensor("F32", "[4]", "[0,16]"), &[0; 8]),
        ),
        (
            "offsets reversed",
            file(&tensor("F32", "[1]", "[4,0]"), &[0; 4]),
        ),
        (
            "offsets short of the shape",
            file(&tensor("F32", "[4]", "[0,8]"), &[0; 8]),
        ),
        ("one offset", file(&tensor("F32", "[1]", "[0]"), &[0; 4])),
        (
            "overlapping tensors",
            file(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                &[0; 12],
            ),
        ),
        (
            "a gap between tensors",
            file(
                r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
                &[0; 12],
            ),
        ),
        (
            "element count overflows",
            file(
                &tensor("F32", "[4294967296,4294967296,16]", "[0,4]"),
                &[0; 4],
            ),
        ),
        (
            "a huge shape of no elements",
            file(
                &tensor("F32", "[0,4294967296,4294967296,4294967296]", "[0,0]"),
                &[],
            ),
        ),
        (
            "a huge shape's last axis",
            file(&tensor("F32", "[0,18446744073709551615]", "[0,0]"), &[]),
        ),
        ("4096 axes", file(&deep, &[0; 4])),
        (
            "wrong dtype size",
            file(&tensor("F64", "[3]", "[0,12]"), &[0; 12]),
        ),
        (
            "sub-byte dtype",
            file(&tensor("F4", "[3]", "[0,2]"), &[0; 2]),
        ),
        (
            "a dtype kiln cannot hold",
            file(&tensor("C64", "[1]", "[0,8]"), &[0; 8]),
        ),
        (
            "trailing bytes",
            file(&tensor("F32", "[1]", "[0,4]"), &[0; 8]),
        ),
        (
            "metadata not strings",
            file(r#"{"__metadata__":{"a":1}}"#, &[]),
        ),
    ];
    let mut failures = Vec::new();
    for (name, bytes) in &cases {
        match load(bytes) {
            Ok(false) => {}
            Ok(true) => failures.push(format!("{name}: loaded")),
            Err(why) => failures.push(format!("{name}: {why}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn empty_and_zero_sized_files_load() {
    warm_up();
    assert_eq!(load(&file("{}", &[])), Ok(true));
    let empty = file(
        r#"{"t":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"s":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}"#,
        &[7, 0, 0, 0, 0, 0, 0, 0],
    );
    assert_eq!(load(&empty), Ok(true));
}

/// A valid file of a few tensors of every dtype family, to mutate.
fn seed_file() -> Vec<u8> {
    let header = concat!(
        r#"{"__metadata__":{"format":"pt"},"#,
        r#""w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"#,
        r#""h":{"dtype":"F16","shape":[4],"data_offsets":[24,32]},"#,
        r#""i":{"dtype":"I64","shape":[2],"data_offsets":[32,48]},"#,
        r#""b":{"dtype":"BOOL","shape":[3],"data_offsets":[48,51]}}"#
    );
    let mut data: Vec<u8> = Vec::new();
    for v in [0.5f32, -1.0, 2.0, 1e-3, 3.5, -7.25] {
        data.extend_from_slice(&v.to_le_bytes());
    }
    for v in [0.5f32, -1.0, 2.0, 65504.0] {
        data.extend_from_slice(&half::f16::from_f32(v).to_le_bytes());
    }
    for v in [-3i64, 1 << 20] {
        data.extend_from_slice(&v.to_le_bytes());
    }
    data.extend_from_slice(&[1, 0, 1]);
    file(header, &data)
}

/// A change to a file: bytes overwritten, inserted or removed, or the
/// length field rewritten.
#[derive(Debug, Clone)]
enum Mutation {
    Overwrite(usize, u8),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
    Length(u64),
    /// A digit of the header replaced by a long number.
    BigNumber(usize, u64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Overwrite(at, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<usize>(), 1usize..16).prop_map(|(at, n)| Mutation::Remove(at, n)),
        any::<u64>().prop_map(Mutation::Length),
        (any::<usize>(), any::<u64>()).prop_map(|(at, v)| Mutation::BigNumber(at, v)),
    ]
}

fn mutate(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len().max(1);
    match m {
        Mutation::Overwrite(at, b) => {
            if let Some(slot) = bytes.get_mut(at % len) {
                *slot = *b;
            }
        }
        Mutation::Insert(at, more) => {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, more.iter().copied());
        }
        Mutation::Remove(at, n) => {
            let at = at % len;
            let end = (at + n).min(bytes.len());
            bytes.drain(at.min(end)..end);
        }
        Mutation::Length(n) => {
            if bytes.len() >= 8 {
                bytes[..8].copy_from_slice(&n.to_le_bytes());
            }
        }
        Mutation::BigNumber(at, v) => {
            let digits: Vec<usize> = (0..bytes.len())
                .filter(|&i| bytes[i].is_ascii_digit() && i >= 8)
                .collect();
            if !digits.is_empty() {
                let i = digits[at % digits.len()];
                bytes.splice(i..=i, v.to_string().bytes());
            }
        }
    }
}

/// Loads the files `make` builds from `strategy`'s values (3,000 of them,
/// see `common::fuzz`), each loading or failing cleanly; prints how many
/// loaded.
fn fuzz_loading<S: Strategy>(what: &str, strategy: S, make: impl Fn(S::Value) -> Vec<u8>) {
    warm_up();
    let mut runner = TestRunner::new(common::fuzz::config(
        3000,
        "tests/fixtures/untrusted_files.proptest-regressions",
    ));
    let (loaded, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let started = std::time::Instant::now();
    let outcome = runner.run(&strategy, |value| {
        match load(&make(value)) {
            Ok(true) => loaded.fetch_add(1, Ordering::Relaxed),
            Ok(false) => refused.fetch_add(1, Ordering::Relaxed),
            Err(why) => return Err(TestCaseError::fail(why)),
        };
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    println!(
        "{} {what} in {:.1} s: {} loaded, {} refused",
        runner.config().cases,
        started.elapsed().as_secs_f64(),
        loaded.into_inner(),
        refused.into_inner()
    );
}

#[test]
fn mutated_files_load_or_fail_cleanly() {
    warm_up();
    assert_eq!(load(&seed_file()), Ok(true), "the unmutated file loads");
    fuzz_loading(
        "mutated files",
        prop::collection::vec(mutation(), 1..6),
        |mutations| {
            let mut bytes = seed_file();
            for m in &mutations {
                mutate(&mut bytes, m);
            }
            bytes
        },
    );
}

/// One tensor entry of a generated header: a dtype (some kiln cannot hold,
/// some no reader knows), a shape with small and absurd axes, and offsets
/// either consistent with the shape or arbitrary.
type Entry = (String, Vec<u64>, Option<(u64, u64)>);

fn tensor_entry() -> impl Strategy<Value = Entry> {
    let dtype = prop::sample::select(vec![
        "F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "U16", "U32", "U64", "BOOL",
        "F8_E4M3", "C64", "F4", "X",
    ]);
    let axis = prop_oneof![
        4 => 0u64..5,
        1 => Just(u32::MAX as u64 + 1),
        1 => Just(u64::MAX),
        1 => any::<u64>(),
    ];
    let offsets = prop::option::of((0u64..4096, 0u64..4096));
    (
        dtype.prop_map(String::from),
        prop::collection::vec(axis, 0..20),
        offsets,
    )
}

/// A file whose header lists `entries` (offsets laid end to end from the
/// shapes where none are given) followed by `extra` more or fewer bytes.
fn generated_file(entries: &[Entry], extra: i64) -> Vec<u8> {
    let mut end = 0u64;
    let mut parts = Vec::new();
    for (i, (dtype, shape, offsets)) in entries.iter().enumerate() {
        let (start, stop) = offsets.unwrap_or_else(|| {
            let width = match dtype.as_str() {
                "F64" | "I64" | "U64" | "C64" => 8,
                "F32" | "I32" | "U32" => 4,
                "F16" | "BF16" | "I16" | "U16" => 2,
                _ => 1,
            };
            let count = shape
                .iter()
                .try_fold(width, |acc: u64, &d| acc.checked_mul(d))
                .unwrap_or(u64::MAX)
                .min(4096);
            (end, end + count)
        });
        end = end.max(stop);
        let axes: Vec<String> = shape.iter().map(u64::to_string).collect();
        parts.push(format!(
            r#""t{i}":{{"dtype":"{dtype}","shape":[{}],"data_offsets":[{start},{stop}]}}"#,
            axes.join(",")
        ));
    }
    let header = format!("{{{}}}", parts.join(","));
    let data_len = (end as i64 + extra).clamp(0, 1 << 16) as usize;
    let data: Vec<u8> = (0..data_len).map(|i| (i % 7) as u8).collect();
    file(&header, &data)
}

#[test]
fn generated_headers_load_or_fail_cleanly() {
    let files = (prop::collection::vec(tensor_entry(), 0..4), -8i64..8);
    fuzz_loading("generated headers", files, |(entries, extra)| {
        generated_file(&entries, extra)
    });
}
