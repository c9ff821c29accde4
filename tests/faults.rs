//! Faults: work larger than the adapter allows is an error naming the
//! problem, and arrays that existed before (evaluated, pending, or read
//! from the same evaluation) stay readable; kiln goes on working after.

use kiln::{Array, DType};

#[test]
fn oversized_work_fails_without_losing_other_arrays() {
    let info = kiln::device_info().unwrap();
    let kept = Array::from_slice(&[1.0f32, 2.0, 3.0], &[3]).unwrap();
    let doubled = kiln::multiply(&kept, &Array::scalar(2.0f32)).unwrap();
    doubled.eval().unwrap();
    // Queued but not yet read: it must survive the failure below.
    let pending = kiln::add(&doubled, &Array::scalar(1.0f32)).unwrap();
    pending.eval().unwrap();

    // Four times the largest binding, as one array.
    let too_many = (4 * info.max_storage_binding_bytes / 4) as usize;
    let huge = kiln::add(
        &kiln::zeros(&[too_many], DType::F32).unwrap(),
        &Array::scalar(1.0f32),
    )
    .unwrap();
    let err = huge
        .eval()
        .expect_err("an array past the adapter's binding limit");
    let message = err.to_string();
    assert!(
        message.contains("bytes") && message.contains("largest storage binding"),
        "{message}"
    );
    // Evaluated together with a small array, the small one still fails
    // with it but keeps nothing half done.
    let small = kiln::negative(&kept).unwrap();
    assert!(kiln::eval(&[&small, &huge]).is_err());

    assert_eq!(kept.to_vec::<f32>().unwrap(), vec![1.0, 2.0, 3.0]);
    assert_eq!(doubled.to_vec::<f32>().unwrap(), vec![2.0, 4.0, 6.0]);
    assert_eq!(pending.to_vec::<f32>().unwrap(), vec![3.0, 5.0, 7.0]);
    assert_eq!(small.to_vec::<f32>().unwrap(), vec![-1.0, -2.0, -3.0]);
    let after = kiln::sum(&kiln::square(&kept).unwrap(), kiln::Axes::All, false).unwrap();
    assert_eq!(after.item::<f32>().unwrap(), 14.0);
}
