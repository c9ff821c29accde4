//! A lost device: work queued on it, arrays computed on it and every later
//! evaluation fail with an error that says so; `init` opens a new device on
//! which kiln works again, and arrays of the old one stay errors. One test
//! in its own process: losing the device would fail any test beside it.

use kiln::{Array, Axes};

fn lost(e: kiln::Error) -> String {
    let message = e.to_string();
    assert!(
        message.contains("lost"),
        "the error should say the device was lost: {message}"
    );
    message
}

#[test]
fn a_lost_device_fails_clearly_and_init_recovers() {
    let before = Array::from_slice(&[1.0f32, 2.0, 3.0], &[3]).unwrap();
    let squares = kiln::square(&before).unwrap();
    squares.eval().unwrap();
    assert_eq!(squares.to_vec::<f32>().unwrap(), vec![1.0, 4.0, 9.0]);
    // Queued but not submitted, and not yet evaluated, when the device goes.
    let queued = kiln::add(&squares, &Array::scalar(1.0f32)).unwrap();
    queued.eval().unwrap();
    let unevaluated = kiln::negative(&squares).unwrap();
    let old_info = kiln::device_info().unwrap();

    kiln::destroy_device();

    let message = lost(queued.to_vec::<f32>().unwrap_err());
    assert!(message.contains("init()"), "{message}");
    lost(squares.to_vec::<f32>().unwrap_err());
    lost(unevaluated.eval().unwrap_err());
    lost(kiln::device_info().unwrap_err());
    let fresh = Array::from_slice(&[5i32], &[1]).unwrap();
    lost(fresh.to_vec::<i32>().unwrap_err());
    assert_eq!(
        kiln::memory_stats().active,
        0,
        "the lost device's memory is freed"
    );

    let info = pollster::block_on(kiln::init()).unwrap();
    assert_eq!(info.name, old_info.name);
    // A second `init` keeps the working device.
    pollster::block_on(kiln::init()).unwrap();

    // Arrays made before the loss are errors naming the op, never garbage.
    let err = kiln::multiply(&squares, &Array::scalar(2.0f32))
        .unwrap()
        .eval()
        .unwrap_err()
        .to_string();
    assert!(err.contains("multiply") && err.contains("lost"), "{err}");
    lost(squares.to_vec::<f32>().unwrap_err());
    lost(before.to_vec::<f32>().unwrap_err());

    // New work runs as before, the upload that failed included.
    let x = Array::from_slice(&[3.0f32, 4.0], &[2]).unwrap();
    let norm =
        kiln::sqrt(&kiln::sum(&kiln::square(&x).unwrap(), Axes::All, false).unwrap()).unwrap();
    assert_eq!(norm.item::<f32>().unwrap(), 5.0);
    assert_eq!(fresh.to_vec::<i32>().unwrap(), vec![5]);
    let g = kiln::grad(|p: &Array| kiln::sum(&kiln::square(p)?, Axes::All, false));
    assert_eq!(g(&x).unwrap().to_vec::<f32>().unwrap(), vec![6.0, 8.0]);
}
