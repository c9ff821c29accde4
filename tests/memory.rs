//! Memory accounting. One test function, so that no other test in this
//! binary allocates from the shared pool while it measures.

use kiln::DType;

#[test]
fn memory_is_accounted_and_reused() {
    evaluated_arrays_drop_their_graph_and_memory_is_reused();
    memory_stats_track_buffers_and_clear_cache_frees_them();
}

fn evaluated_arrays_drop_their_graph_and_memory_is_reused() {
    let mut x = kiln::zeros(&[4096], DType::F32).unwrap();
    x.eval().unwrap();
    let start = kiln::memory_stats().active;
    for _ in 0..200 {
        x = (&x * 0.5 + 1.0).sqrt().unwrap();
        x.eval().unwrap();
    }
    // The loop keeps a bounded amount of memory alive, not 200 arrays' worth.
    let grown = kiln::memory_stats().active.saturating_sub(start);
    assert!(grown < 64 * 4096 * 4, "active memory grew by {grown} bytes");
    let v = x.to_vec::<f32>().unwrap();
    assert!((v[0] - 1.280776).abs() < 1e-5, "{}", v[0]);
}

fn memory_stats_track_buffers_and_clear_cache_frees_them() {
    let a = kiln::arange(0.0, 262144.0, 1.0, DType::F32).unwrap();
    a.eval().unwrap();
    let with = kiln::memory_stats();
    assert!(with.active >= 1 << 20 && with.peak >= with.active);
    drop(a);
    let without = kiln::memory_stats();
    assert!(without.cached >= 1 << 20, "{without:?}");
    kiln::clear_cache();
    assert_eq!(kiln::memory_stats().cached, 0);
}
