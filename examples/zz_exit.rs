fn main() {
    let a = kiln::random::normal(&kiln::random::key(1), &[256, 256], kiln::DType::F32).unwrap();
    let mut x = a.clone();
    for _ in 0..40 {
        x = kiln::matmul(&x, &a).unwrap();
        x = kiln::tanh(&x).unwrap();
    }
    let _ = kiln::sum(&x, None, false).unwrap().item::<f32>();
    for _ in 0..40 {
        x = kiln::matmul(&x, &a).unwrap();
    }
    x.eval().unwrap();
    kiln::synchronize().ok();
    x = kiln::matmul(&x, &a).unwrap();
    x.eval().unwrap();
}
