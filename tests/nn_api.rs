//! `kiln::nn` and `kiln::optimizers` behaviour beyond the PyTorch
//! fixtures: parameter trees, freezing, modes, dropout and initialiser
//! statistics, optimizer state round trips, and clear errors.

mod common;

use common::floats;
use kiln::nn::{self, init, losses, Layer, Module};
use kiln::optimizers::{Adam, Optimizer, Sgd};
use kiln::{random, Array, Axes, DType};

fn key(i: u64) -> Array {
    random::key(i)
}

fn message(result: kiln::Result<impl std::fmt::Debug>) -> String {
    result.expect_err("must fail").to_string()
}

fn block() -> nn::TransformerEncoderBlock {
    nn::TransformerEncoderBlock::new(nn::TransformerOptions::new(8, 2), &key(0)).unwrap()
}

#[test]
fn parameter_trees_are_named_by_path() {
    let names: Vec<String> = block().parameters().into_keys().collect();
    let want = [
        "attention.key_proj.bias",
        "attention.key_proj.weight",
        "attention.out_proj.bias",
        "attention.out_proj.weight",
        "attention.query_proj.bias",
        "attention.query_proj.weight",
        "attention.value_proj.bias",
        "attention.value_proj.weight",
        "linear1.bias",
        "linear1.weight",
        "linear2.bias",
        "linear2.weight",
        "norm1.bias",
        "norm1.weight",
        "norm2.bias",
        "norm2.weight",
    ];
    assert_eq!(names, want);
    let model = nn::Sequential::new()
        .push(nn::Linear::new(4, 4, false, &key(1)).unwrap())
        .push(nn::BatchNorm::new(4, 1e-5, 0.1, true).unwrap());
    let names: Vec<String> = model.parameters().into_keys().collect();
    assert_eq!(
        names,
        [
            "0.weight",
            "1.bias",
            "1.running_mean",
            "1.running_var",
            "1.weight"
        ]
    );
    // Buffers are state, not trainable.
    let trainable: Vec<String> = model.trainable_parameters().into_keys().collect();
    assert_eq!(trainable, ["0.weight", "1.bias", "1.weight"]);
    assert_eq!(model.num_parameters(), 16 + 4 + 4);
}

#[test]
fn frozen_parameters_get_no_gradients_and_no_updates() {
    let b = block();
    b.freeze("attention");
    b.unfreeze("attention.out_proj");
    let trainable: Vec<String> = b.trainable_parameters().into_keys().collect();
    assert!(trainable
        .iter()
        .all(|n| !n.starts_with("attention.") || n.starts_with("attention.out_proj.")));
    assert!(trainable.contains(&"attention.out_proj.weight".to_string()));
    // A prefix names whole path segments: "norm" is neither "norm1" nor "norm2".
    b.freeze("norm");
    assert!(b.trainable_parameters().contains_key("norm1.weight"));
    let x = random::normal(&key(2), &[2, 3, 8], DType::F32).unwrap();
    let (_, grads) =
        nn::value_and_grad(&b, || kiln::sum(&b.forward(&x)?, Axes::All, false)).unwrap();
    assert_eq!(
        grads.keys().collect::<Vec<_>>(),
        trainable.iter().collect::<Vec<_>>()
    );
    let frozen = b.attention.query_proj.weight.value();
    let mut all = grads.clone();
    all.insert(
        "attention.query_proj.weight".into(),
        kiln::zeros_like(&frozen).unwrap(),
    );
    let mut opt = Optimizer::new(Adam::default(), 0.1);
    let err = message(opt.step(&b, &all));
    assert!(
        err.contains("attention.query_proj.weight") && err.contains("not trainable"),
        "{err}"
    );
    opt.step(&b, &grads).unwrap();
    assert_eq!(
        floats(&b.attention.query_proj.weight.value()),
        floats(&frozen)
    );
}

#[test]
fn dropout_keeps_the_expected_fraction_and_scale_and_is_off_in_eval() {
    let p = 0.3;
    let layer = nn::Dropout::new(p, &key(3)).unwrap();
    let n = 200_000;
    let x = kiln::ones(&[n], DType::F32).unwrap();
    let first = floats(&layer.forward(&x).unwrap());
    let kept = first.iter().filter(|&&v| v != 0.0).count() as f64;
    // Binomial(n, 0.7): standard deviation √(n p (1-p)) ≈ 205; allow 5 of them.
    assert!(
        (kept - 0.7 * n as f64).abs() < 5.0 * (n as f64 * p * (1.0 - p)).sqrt(),
        "kept {kept}"
    );
    assert!(first
        .iter()
        .all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6));
    // Each call draws a new mask.
    assert_ne!(first, floats(&layer.forward(&x).unwrap()));
    let model = nn::Sequential::new().push(layer);
    assert!(model.is_training());
    model.train(false);
    assert!(!model.is_training());
    assert_eq!(floats(&model.forward(&x).unwrap()), vec![1.0; n]);
}

fn mean_and_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    (
        mean,
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt(),
    )
}

#[test]
fn initialisers_have_their_documented_distributions() {
    let shape = [256, 3, 3, 64]; // fan_in 576, fan_out 2304
    let n = shape.iter().product::<usize>() as f64;
    // The sample std of n draws is within a few 1/√(2n) of the true one.
    let std_ok = |got: f64, want: f64| (got / want - 1.0).abs() < 5.0 / (2.0 * n).sqrt();
    // A float32 bound: the limit rounded to float32, plus one rounding of `lo + u (hi - lo)`.
    let within = |v: &[f64], limit: f64| {
        v.iter()
            .all(|x| x.abs() <= limit as f32 as f64 * (1.0 + f64::from(f32::EPSILON)))
    };
    let limit = (6.0f64 / (576.0 + 2304.0)).sqrt();
    let v = floats(&init::glorot_uniform(&key(4), &shape, DType::F32, 1.0).unwrap());
    assert!(within(&v, limit));
    assert!(std_ok(mean_and_std(&v).1, limit / 3f64.sqrt()));
    let v = floats(&init::glorot_normal(&key(5), &shape, DType::F32, 1.0).unwrap());
    assert!(std_ok(mean_and_std(&v).1, (2.0f64 / 2880.0).sqrt()));
    let v = floats(&init::he_normal(&key(6), &shape, DType::F32).unwrap());
    assert!(std_ok(mean_and_std(&v).1, (2.0f64 / 576.0).sqrt()));
    let v = floats(&init::he_uniform(&key(7), &shape, DType::F32).unwrap());
    assert!(within(&v, (6.0f64 / 576.0).sqrt()));
    assert!(std_ok(mean_and_std(&v).1, (2.0f64 / 576.0).sqrt()));
    // N(1, 0.5²) truncated to ±2σ: the variance shrinks by 1 - 2·2φ(2)/(2Φ(2) - 1).
    let v =
        floats(&init::truncated_normal(&key(8), &shape, DType::F32, 1.0, 0.5, -2.0, 2.0).unwrap());
    assert!(v.iter().all(|x| (0.0..=2.0).contains(x)));
    let phi2 = (-2.0f64).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mass = libm::erf(2.0 / std::f64::consts::SQRT_2);
    let (mean, std) = mean_and_std(&v);
    assert!((mean - 1.0).abs() < 5.0 * 0.5 / n.sqrt(), "mean {mean}");
    assert!(
        std_ok(std, 0.5 * (1.0 - 4.0 * phi2 / mass).sqrt()),
        "std {std}"
    );
    assert!(message(init::he_normal(&key(9), &[5], DType::F32)).contains("he_normal"));
}

#[test]
fn optimizer_state_round_trips_through_safetensors() {
    let make = || nn::Linear::new(3, 2, true, &key(10)).unwrap();
    let x = random::normal(&key(11), &[4, 3], DType::F32).unwrap();
    let step = |model: &nn::Linear, opt: &mut Optimizer<Adam>| {
        let (_, grads) = nn::value_and_grad(model, || {
            kiln::sum(&kiln::square(&model.forward(&x)?)?, Axes::All, false)
        })
        .unwrap();
        opt.step(model, &grads).unwrap();
    };
    let (a, b) = (make(), make());
    let mut opt_a = Optimizer::new(Adam::default(), 0.05);
    step(&a, &mut opt_a);
    step(&a, &mut opt_a);
    let state = kiln::io::to_safetensors_bytes(&opt_a.state(), None).unwrap();
    let weights = kiln::io::to_safetensors_bytes(&a.parameters(), None).unwrap();
    let mut opt_b = Optimizer::new(Adam::default(), 0.05);
    opt_b
        .load_state(&kiln::io::from_safetensors_bytes(&state).unwrap().0)
        .unwrap();
    nn::load_weights_from_bytes(&b, &weights).unwrap();
    assert_eq!(opt_b.steps(), 2);
    step(&a, &mut opt_a);
    step(&b, &mut opt_b);
    assert_eq!(floats(&a.weight.value()), floats(&b.weight.value()));
    let mut wrong = opt_a.state();
    wrong.insert("velocity.weight".into(), Array::scalar(0.0f32));
    assert!(message(opt_b.load_state(&wrong)).contains("velocity.weight"));
}

#[test]
fn a_parameter_unfrozen_later_starts_its_own_step_count() {
    let model = nn::Linear::new(3, 2, true, &key(13)).unwrap();
    let x = random::normal(&key(14), &[4, 3], DType::F32).unwrap();
    let mut opt = Optimizer::new(Adam::default(), 0.01);
    let step = |opt: &mut Optimizer<Adam>| {
        let (_, grads) =
            nn::value_and_grad(&model, || kiln::sum(&model.forward(&x)?, Axes::All, false))
                .unwrap();
        opt.step(&model, &grads).unwrap();
    };
    model.freeze("bias");
    for _ in 0..20 {
        step(&mut opt);
    }
    model.unfreeze("bias");
    let before = floats(&model.bias.as_ref().unwrap().value());
    step(&mut opt);
    let after = floats(&model.bias.as_ref().unwrap().value());
    // Adam's first step moves each entry by lr (bias-corrected m / √v = ±1);
    // a global count of 21 would make it about 2.2 lr.
    for (b, a) in before.iter().zip(&after) {
        assert!(
            ((b - a).abs() - 0.01).abs() < 1e-5,
            "moved {}",
            (b - a).abs()
        );
    }
    let state = opt.state();
    assert_eq!(floats(&state["step"]), [21.0]);
    assert_eq!(floats(&state["step.bias"]), [1.0]);
    assert_eq!(floats(&state["step.weight"]), [21.0]);
}

#[test]
fn empty_batches_give_empty_results() {
    let k = key(15);
    let shape = |layer: &dyn Layer, x: &[usize]| {
        let y = layer.forward(&kiln::zeros(x, DType::F32).unwrap()).unwrap();
        y.eval().unwrap();
        y.shape().to_vec()
    };
    assert_eq!(
        shape(&nn::Linear::new(5, 3, true, &k).unwrap(), &[0, 5]),
        [0, 3]
    );
    let conv = nn::Conv2d::new(
        4,
        6,
        [3, 3],
        nn::ConvOptions {
            groups: 2,
            ..Default::default()
        },
        &k,
    )
    .unwrap();
    assert_eq!(shape(&conv, &[0, 5, 5, 4]), [0, 3, 3, 6]);
    assert_eq!(
        shape(
            &nn::MultiHeadAttention::new(8, 2, true, &k).unwrap(),
            &[0, 3, 8]
        ),
        [0, 3, 8]
    );
    assert_eq!(
        shape(
            &nn::GroupNorm::new(2, 4, 1e-5, true).unwrap(),
            &[0, 2, 2, 4]
        ),
        [0, 2, 2, 4]
    );
    assert_eq!(shape(&nn::Flatten, &[0, 2, 3]), [0, 6]);
}

#[test]
fn bad_input_gives_clear_errors() {
    let k = key(12);
    let x = kiln::zeros(&[2, 5], DType::F32).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (
            message(nn::Linear::new(4, 3, true, &k).unwrap().forward(&x)),
            "Linear",
        ),
        (
            message(nn::Embedding::new(10, 4, &k).unwrap().forward(&x)),
            "Embedding",
        ),
        (
            message(
                nn::Conv2d::new(3, 4, [3, 3], Default::default(), &k)
                    .unwrap()
                    .forward(&kiln::zeros(&[1, 5, 5, 2], DType::F32).unwrap()),
            ),
            "conv2d",
        ),
        (
            message(
                nn::Conv2d::new(3, 4, [3, 3], Default::default(), &k)
                    .unwrap()
                    .forward(&kiln::zeros(&[1, 2, 2, 3], DType::F32).unwrap()),
            ),
            "smaller than the kernel",
        ),
        (
            message(nn::Conv2d::new(
                3,
                4,
                [3, 3],
                nn::ConvOptions {
                    groups: 2,
                    ..Default::default()
                },
                &k,
            )),
            "groups",
        ),
        (
            message(nn::LayerNorm::new(4, 1e-5, true).unwrap().forward(&x)),
            "LayerNorm",
        ),
        (
            message(nn::MultiHeadAttention::new(10, 3, true, &k)),
            "heads",
        ),
        (
            message(losses::cross_entropy(
                &x,
                &Array::from_slice(&[1i32, 2, 3], &[3]).unwrap(),
                Default::default(),
            )),
            "cross_entropy",
        ),
        (
            message(losses::cross_entropy(
                &x,
                &kiln::zeros(&[2, 4], DType::F32).unwrap(),
                Default::default(),
            )),
            "cross_entropy",
        ),
        (
            message(losses::mse_loss(
                &x,
                &kiln::zeros(&[5, 2], DType::F32).unwrap(),
                Default::default(),
            )),
            "mse_loss",
        ),
        (
            message(losses::nll_loss(
                &x,
                &kiln::zeros(&[2], DType::F32).unwrap(),
                Default::default(),
            )),
            "nll_loss",
        ),
        (message(nn::Dropout::new(1.0, &k)), "Dropout"),
        (message(nn::Rope::new(3, false, 10000.0)), "RoPE"),
        (
            message(nn::gelu(&kiln::zeros(&[3], DType::I32).unwrap())),
            "gelu",
        ),
        (
            message(nn::scaled_dot_product_attention(
                &kiln::zeros(&[2, 4], DType::I32).unwrap(),
                &x,
                &x,
                None,
                None,
                false,
            )),
            "scaled_dot_product_attention",
        ),
    ];
    for (got, want) in cases {
        assert!(got.contains(want), "{got:?} should mention {want:?}");
    }
    let model = nn::Linear::new(5, 2, true, &k).unwrap();
    let mut grads = model.parameters();
    grads.insert("missing.weight".into(), Array::scalar(0.0f32));
    let mut opt = Optimizer::new(Adam::default(), 0.1);
    assert!(message(opt.update(&model, &grads)).contains("missing.weight"));
}

/// `conv2d` by direct summation: `x` `(1, H, W, C)`, `w` `(O, KH, KW, C)`.
fn conv2d_reference(
    x: &[f64],
    [h, w, c]: [usize; 3],
    weight: &[f64],
    [o, kh, kw]: [usize; 3],
    options: &nn::ConvOptions<2>,
) -> Vec<f64> {
    let [sh, sw] = options.stride;
    let [ph, pw] = options.padding;
    let [dh, dw] = options.dilation;
    let ho = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
    let wo = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
    let mut out = vec![0.0; ho * wo * o];
    for (oh, ow, oc) in
        (0..ho).flat_map(|a| (0..wo).flat_map(move |b| (0..o).map(move |d| (a, b, d))))
    {
        let mut acc = 0.0;
        for (i, j, ci) in
            (0..kh).flat_map(|i| (0..kw).flat_map(move |j| (0..c).map(move |k| (i, j, k))))
        {
            let row = (oh * sh + i * dh) as isize - ph as isize;
            let col = (ow * sw + j * dw) as isize - pw as isize;
            if row < 0 || col < 0 || row >= h as isize || col >= w as isize {
                continue;
            }
            let xv = x[(row as usize * w + col as usize) * c + ci];
            acc += xv * weight[((oc * kh + i) * kw + j) * c + ci];
        }
        out[(oh * wo + ow) * o + oc] = acc;
    }
    out
}

#[test]
fn repeated_convolutions_match_a_direct_sum() {
    let weight = random::normal(&key(20), &[3, 3, 2, 2], DType::F32).unwrap();
    let wv = floats(&weight);
    let geometries: [([usize; 3], nn::ConvOptions<2>); 4] = [
        ([5, 6, 2], Default::default()),
        ([4, 6, 2], Default::default()),
        (
            [5, 6, 2],
            nn::ConvOptions {
                padding: [1, 0],
                ..Default::default()
            },
        ),
        (
            [5, 6, 2],
            nn::ConvOptions {
                stride: [2, 1],
                dilation: [1, 2],
                ..Default::default()
            },
        ),
    ];
    // Twice over, so that the second round reuses what the first built.
    for round in 0..2 {
        for (i, ([h, w, c], options)) in geometries.iter().enumerate() {
            let x = random::normal(&key(21 + round), &[1, *h, *w, *c], DType::F32).unwrap();
            let got = floats(&nn::conv2d(&x, &weight, options).unwrap());
            let want = conv2d_reference(&floats(&x), [*h, *w, *c], &wv, [3, 3, 2], options);
            assert_eq!(got.len(), want.len(), "geometry {i}, round {round}");
            for (g, e) in got.iter().zip(&want) {
                assert!(
                    (g - e).abs() < 1e-4,
                    "geometry {i}, round {round}: {g} vs {e}"
                );
            }
        }
    }
}

/// A block with batch norm after it: trainable weights and buffers that
/// the loss updates.
struct Normed {
    block: nn::TransformerEncoderBlock,
    norm: nn::BatchNorm,
}

impl Module for Normed {
    fn visit(&self, scope: &mut nn::Scope) {
        scope.child("block", &self.block);
        scope.child("norm", &self.norm);
    }
}

impl Normed {
    fn loss(&self, x: &Array, target: &Array) -> kiln::Result<Array> {
        let h = self.block.forward_masked(x, None, true)?;
        let y = self.norm.forward(&kiln::reshape(&h, &[-1, 8])?)?;
        losses::mse_loss(&y, target, Default::default())
    }
}

#[test]
fn compiled_gradients_and_buffers_follow_the_eager_ones() {
    let make = || Normed {
        block: block(),
        norm: nn::BatchNorm::new(8, 1e-5, 0.1, true).unwrap(),
    };
    let (eager, compiled) = (make(), make());
    let step = nn::compile_value_and_grad(&compiled, |inputs: &[Array]| {
        compiled.loss(&inputs[0], &inputs[1])
    });
    // SGD, not Adam: the batch norm after the block makes a per-channel
    // shift of the block's output (its last biases) invisible to the loss,
    // so those gradients are rounding noise, which Adam's normalisation
    // would turn into full steps that differ between any two summation
    // orders (as eager and fused kernels have on a GPU).
    let momentum = Sgd {
        momentum: 0.9,
        ..Default::default()
    };
    let (mut opt_eager, mut opt_compiled) = (
        Optimizer::new(momentum, 0.05),
        Optimizer::new(momentum, 0.05),
    );
    let mut dispatches = [0usize; 2];
    for i in 0..4 {
        // Every call sees new inputs and the parameters the last step left.
        let x = random::normal(&key(10 + i), &[2, 5, 8], DType::F32).unwrap();
        let target = random::normal(&key(20 + i), &[10, 8], DType::F32).unwrap();
        kiln::eval(&[&x, &target]).unwrap();
        let before = kiln::dispatch_count();
        let (loss_e, grads_e) = nn::value_and_grad(&eager, || eager.loss(&x, &target)).unwrap();
        kiln::eval(&[&loss_e]).unwrap();
        kiln::eval(&grads_e.values().collect::<Vec<_>>()).unwrap();
        dispatches[0] = kiln::dispatch_count() - before;
        let before = kiln::dispatch_count();
        let (loss_c, grads_c) = step(&[x, target]).unwrap();
        kiln::eval(&[&loss_c]).unwrap();
        kiln::eval(&grads_c.values().collect::<Vec<_>>()).unwrap();
        dispatches[1] = kiln::dispatch_count() - before;
        let near = |what: &str, got: &Array, want: &Array| {
            let (g, w) = (floats(got), floats(want));
            assert_eq!(g.len(), w.len(), "{what}");
            for (k, (g, w)) in g.iter().zip(&w).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-5 + 1e-4 * w.abs(),
                    "step {i}, {what}[{k}]: compiled {g}, eager {w}"
                );
            }
        };
        near("loss", &loss_c, &loss_e);
        assert_eq!(
            grads_c.keys().collect::<Vec<_>>(),
            grads_e.keys().collect::<Vec<_>>()
        );
        for (name, g) in &grads_e {
            near(name, &grads_c[name], g);
        }
        // The running statistics moved the same way.
        for name in ["norm.running_mean", "norm.running_var"] {
            near(
                name,
                &compiled.parameters()[name],
                &eager.parameters()[name],
            );
        }
        opt_eager.step(&eager, &grads_e).unwrap();
        opt_compiled.step(&compiled, &grads_c).unwrap();
    }
    assert!(
        dispatches[1] < dispatches[0],
        "compiled {} dispatches, eager {}",
        dispatches[1],
        dispatches[0]
    );

    // Freezing traces again, without gradients for the frozen parameters.
    compiled.freeze("block.attention");
    let x = random::normal(&key(30), &[2, 5, 8], DType::F32).unwrap();
    let target = random::normal(&key(31), &[10, 8], DType::F32).unwrap();
    let (_, grads) = step(&[x, target]).unwrap();
    assert_eq!(
        grads.keys().cloned().collect::<Vec<_>>(),
        compiled
            .trainable_parameters()
            .into_keys()
            .collect::<Vec<_>>()
    );
    assert!(!grads.contains_key("block.attention.query_proj.weight"));
}

#[test]
fn compiled_dropout_is_an_error_in_training_and_off_in_eval() {
    let model = nn::Sequential::new()
        .push(nn::Linear::new(4, 4, true, &key(0)).unwrap())
        .push(nn::Dropout::new(0.5, &key(1)).unwrap());
    let step = nn::compile_value_and_grad(&model, |inputs: &[Array]| {
        kiln::sum(&model.forward(&inputs[0])?, Axes::All, false)
    });
    let x = random::normal(&key(2), &[3, 4], DType::F32).unwrap();
    let err = message(step(std::slice::from_ref(&x)));
    assert!(err.contains("Dropout") && err.contains("compile"), "{err}");
    // The failed trace left the parameters as they were.
    assert!(floats(&model.parameters()["0.weight"])
        .iter()
        .all(|v| v.is_finite()));
    model.train(false);
    let (loss, _) = step(std::slice::from_ref(&x)).unwrap();
    let want = kiln::sum(&model.forward(&x).unwrap(), Axes::All, false).unwrap();
    assert!((loss.item::<f32>().unwrap() - want.item::<f32>().unwrap()).abs() < 1e-5);
}

/// Layer (or RMS) normalisation over the last axis composed of ops: the
/// reference the fused kernels are checked against.
fn composed_norm(x: &Array, eps: f32, rms: bool) -> kiln::Result<Array> {
    let centered = if rms {
        x.clone()
    } else {
        kiln::subtract(x, &kiln::mean(x, -1, true)?)?
    };
    let mean_square = kiln::mean(&kiln::square(&centered)?, -1, true)?;
    kiln::divide(
        &centered,
        &kiln::sqrt(&kiln::add(&mean_square, &Array::scalar(eps))?)?,
    )
}

#[test]
fn fused_normalisation_matches_its_composition() {
    // Short rows (a thread each on CPU adapters, a workgroup on GPUs: both
    // kernels' choices run here), rows longer than a workgroup, one-element
    // rows, a batch of none.
    for as_on_gpu in [false, true] {
        if as_on_gpu {
            kiln::backend::kernels::choose_as_on_gpu(fused_normalisation_cases);
        } else {
            fused_normalisation_cases();
        }
    }
}

fn fused_normalisation_cases() {
    for (k, shape) in [
        vec![4, 7],
        vec![2, 3, 128],
        vec![3, 5000],
        vec![5, 1],
        vec![0, 6],
    ]
    .into_iter()
    .enumerate()
    {
        let x = kiln::add(
            &random::normal(&key(40 + k as u64), &shape, DType::F32).unwrap(),
            &Array::scalar(3.0f32),
        )
        .unwrap();
        let weights = random::normal(&key(50 + k as u64), &shape, DType::F32).unwrap();
        for rms in [false, true] {
            let fused = |y: &Array| {
                if rms {
                    nn::rms_norm(y, None, 1e-5)
                } else {
                    nn::layer_norm(y, None, None, 1e-5)
                }
            };
            let what = format!(
                "{} of {shape:?}",
                if rms { "rms_norm" } else { "layer_norm" }
            );
            let near = |part: &str, got: &Array, want: &Array| {
                let (g, w) = (floats(got), floats(want));
                assert_eq!(got.shape(), want.shape(), "{what}: {part}");
                for (i, (g, w)) in g.iter().zip(&w).enumerate() {
                    assert!(
                        (g - w).abs() <= 1e-4 + 1e-4 * w.abs(),
                        "{what}: {part}[{i}] fused {g}, composed {w}"
                    );
                }
            };
            near(
                "value",
                &fused(&x).unwrap(),
                &composed_norm(&x, 1e-5, rms).unwrap(),
            );
            let weighted =
                |normed: Array| kiln::sum(&kiln::multiply(&normed, &weights)?, Axes::All, false);
            let grad_fused = kiln::grad(|y: &Array| weighted(fused(y)?))(&x).unwrap();
            let grad_composed =
                kiln::grad(|y: &Array| weighted(composed_norm(y, 1e-5, rms)?))(&x).unwrap();
            near("gradient", &grad_fused, &grad_composed);
            // Forward mode gives the same derivative (the Jacobian is symmetric).
            let (_, tangents) = kiln::jvp(
                |y: &[Array]| Ok(vec![fused(&y[0])?]),
                std::slice::from_ref(&x),
                std::slice::from_ref(&weights),
            )
            .unwrap();
            near("tangent", &tangents[0], &grad_composed);
        }
    }
    // Float16 in, float16 out, computed in float32.
    let x = random::normal(&key(60), &[3, 40], DType::F32).unwrap();
    let half = nn::layer_norm(&x.astype(DType::F16).unwrap(), None, None, 1e-5).unwrap();
    assert_eq!(half.dtype(), DType::F16);
    let want = floats(
        &composed_norm(
            &x.astype(DType::F16).unwrap().astype(DType::F32).unwrap(),
            1e-5,
            false,
        )
        .unwrap(),
    );
    for (g, w) in floats(&half).iter().zip(&want) {
        assert!(
            (g - w).abs() <= 2e-3 * (1.0 + w.abs()),
            "float16: {g} against {w}"
        );
    }
}

#[test]
fn mixed_precision_gradients_follow_the_float32_ones() {
    let mlp = || {
        nn::Sequential::new()
            .push(nn::Linear::new(16, 32, true, &key(80)).unwrap())
            .push(nn::Activation::Gelu)
            .push(nn::LayerNorm::new(32, 1e-5, true).unwrap())
            .push(nn::Linear::new(32, 5, true, &key(81)).unwrap())
    };
    let (wide, mixed) = (mlp(), mlp());
    let x = random::normal(&key(82), &[12, 16], DType::F32).unwrap();
    let labels = random::randint(&key(83), &[12], 0, 5).unwrap();
    let seen = std::cell::Cell::new(None);
    let float32 = nn::compile_value_and_grad(&wide, |inputs: &[Array]| {
        losses::cross_entropy(&wide.forward(&inputs[0])?, &inputs[1], Default::default())
    });
    let precision = nn::MixedPrecision::default();
    let scaler = precision.scaler().cloned().unwrap();
    let float16 = nn::compile_value_and_grad_mixed(&mixed, precision, |inputs: &[Array]| {
        let logits = mixed.forward(&inputs[0].astype(DType::F16)?)?;
        seen.set(Some(logits.dtype()));
        losses::cross_entropy(&logits, &inputs[1], Default::default())
    });
    let (loss32, grads32) = float32(&[x.clone(), labels.clone()]).unwrap();
    // The default scale (2^16) overflows float16 here (on lavapipe it
    // does): the scaler lowers it until the gradients are finite.
    let (loss16, grads16) = loop {
        let (loss, grads) = float16(&[x.clone(), labels.clone()]).unwrap();
        if scaler.update(&grads).unwrap().item::<bool>().unwrap() {
            break (loss, grads);
        }
        let scale = scaler.scale().unwrap();
        assert!(scale >= 1.0, "the scale fell to {scale}");
    };
    assert_eq!(
        seen.get(),
        Some(DType::F16),
        "the model computed in float16"
    );
    assert_eq!(loss16.dtype(), DType::F32);
    let (l32, l16) = (loss32.item::<f32>().unwrap(), loss16.item::<f32>().unwrap());
    assert!((l32 - l16).abs() < 1e-2 * l32, "loss {l16} against {l32}");
    let mut differs = false;
    for (name, g32) in &grads32 {
        let g16 = &grads16[name];
        assert_eq!(g16.dtype(), DType::F32, "{name}: float32 gradients");
        let (a, b) = (floats(g16), floats(g32));
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (u, v) in a.iter().zip(&b) {
            assert!(
                (u - v).abs() <= 2e-2 * scale + 1e-6,
                "{name}: {u} against {v}"
            );
            differs |= u != v;
        }
    }
    assert!(differs, "float16 rounding shows somewhere");
    // A compute dtype that is not float is an error.
    let bad = nn::compile_value_and_grad_mixed(
        &mixed,
        nn::MixedPrecision {
            compute: DType::I32,
            loss_scale: nn::LossScale::Fixed(1.0),
        },
        |inputs: &[Array]| kiln::sum(&mixed.forward(&inputs[0])?, Axes::All, false),
    );
    let err = message(bad(&[
        random::normal(&key(84), &[2, 16], DType::F32).unwrap()
    ]));
    assert!(err.contains("float compute dtype"), "{err}");
}

#[test]
fn a_dynamic_loss_scale_skips_overflowing_steps_lowers_and_grows_back() {
    let make = || nn::Linear::new(4, 2, true, &key(90)).unwrap();
    let (model, reference) = (make(), make());
    let x = random::normal(&key(91), &[3, 4], DType::F32).unwrap();
    // The output's cotangent is 32 times the output times the scale.
    let loss = |m: &nn::Linear, x: &Array| {
        let out = kiln::multiply(&m.forward(x)?, &Array::scalar(4.0f32))?;
        kiln::sum(&kiln::square(&out)?, Axes::All, false)
    };
    let plain =
        nn::compile_value_and_grad(&reference, |inputs: &[Array]| loss(&reference, &inputs[0]));
    // Float32 compute, so that a scale near float32's largest overflows
    // the scaled loss on every adapter.
    let scaler = nn::LossScaler::new(2f64.powi(127))
        .unwrap()
        .with_growth(2.0, 3)
        .unwrap();
    let precision = nn::MixedPrecision {
        compute: DType::F32,
        loss_scale: nn::LossScale::Dynamic(scaler.clone()),
    };
    let traces = std::cell::Cell::new(0);
    let step = nn::compile_value_and_grad_mixed(&model, precision, |inputs: &[Array]| {
        traces.set(traces.get() + 1);
        loss(&model, &inputs[0])
    });
    let (mut opt, mut opt_reference) = (
        Optimizer::new(Adam::default(), 0.05),
        Optimizer::new(Adam::default(), 0.05),
    );
    let (_, want) = plain(std::slice::from_ref(&x)).unwrap();
    let mut skipped = 0;
    loop {
        let before = floats(&model.weight.value());
        let (_, grads) = step(std::slice::from_ref(&x)).unwrap();
        let scale = scaler.scale().unwrap();
        let finite = scaler.update(&grads).unwrap();
        opt.step_if(&model, &grads, &finite).unwrap();
        if finite.item::<bool>().unwrap() {
            // A power of two scales and unscales exactly.
            for (name, g) in &want {
                assert_eq!(floats(&grads[name]), floats(g), "{name} at scale {scale}");
            }
            break;
        }
        skipped += 1;
        assert_eq!(
            scaler.scale().unwrap(),
            scale / 2.0,
            "halved after an overflow"
        );
        let after = floats(&model.weight.value());
        assert_eq!(after, before, "a skipped step changes nothing");
        assert!(skipped < 100, "the scale never came down: {scale}");
    }
    assert!(skipped > 0, "2^127 times the loss must overflow");
    assert_eq!(scaler.skipped_steps().unwrap(), skipped);
    // Every scale replayed the first trace.
    assert_eq!(traces.get(), 1);
    // The applied step is the plain one, from the Adam state the skipped
    // steps left untouched. Their step counts still count, so the
    // reference takes as many steps first, with zero gradients (which
    // leave zero moments and the parameters as they are).
    let zero: nn::Params = want
        .iter()
        .map(|(k, g)| (k.clone(), kiln::zeros_like(g).unwrap()))
        .collect();
    for _ in 0..skipped {
        opt_reference.step(&reference, &zero).unwrap();
    }
    opt_reference.step(&reference, &want).unwrap();
    for (name, p) in reference.parameters() {
        let got = floats(&model.parameters()[&name]);
        for (g, w) in got.iter().zip(floats(&p)) {
            assert!(
                (g - w).abs() <= 1e-6 * (1.0 + w.abs()),
                "{name}: {g} against {w}"
            );
        }
    }
    // Three finite steps in a row double the scale.
    let before = scaler.scale().unwrap();
    for _ in 0..2 {
        let (_, grads) = step(std::slice::from_ref(&x)).unwrap();
        assert!(scaler.update(&grads).unwrap().item::<bool>().unwrap());
    }
    assert_eq!(scaler.scale().unwrap(), 2.0 * before);
    // Bad settings are errors naming the scaler or the update.
    for err in [
        message(nn::LossScaler::new(0.0)),
        message(nn::LossScaler::new(f64::INFINITY)),
        message(nn::LossScaler::default().with_growth(0.5, 10)),
        message(nn::LossScaler::default().with_growth(2.0, 0)),
        message(nn::LossScaler::default().update(&nn::Params::new())),
    ] {
        assert!(err.contains("LossScaler"), "{err}");
    }
    let err = message(opt.update_if(&model, &want, &Array::scalar(1.0f32)));
    assert!(err.contains("bool scalar"), "{err}");
    // A NaN gradient is not finite either.
    let mut grads = want.clone();
    grads.insert(
        "bias".into(),
        Array::from_slice(&[f32::NAN, 0.0], &[2]).unwrap(),
    );
    let fresh = nn::LossScaler::default();
    assert!(!fresh.update(&grads).unwrap().item::<bool>().unwrap());
    assert_eq!(fresh.scale().unwrap(), 32768.0);
}
