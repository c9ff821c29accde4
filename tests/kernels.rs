//! Every generated WGSL kernel parses and validates with naga (no GPU needed).

#[test]
fn every_kernel_variant_validates() {
    let variants = kiln::backend::kernels::variants();
    assert!(
        variants.len() > 300,
        "expected every op and dtype, got {}",
        variants.len()
    );
    let mut failures = Vec::new();
    for k in &variants {
        let module = match naga::front::wgsl::parse_str(&k.source) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{}: {}", k.name, e.emit_to_string(&k.source)));
                continue;
            }
        };
        let mut validator = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::all(),
        );
        if let Err(e) = validator.validate(&module) {
            failures.push(format!("{}: {}", k.name, e.emit_to_string(&k.source)));
            continue;
        }
        if !module.entry_points.iter().any(|e| e.name == k.entry) {
            failures.push(format!("{}: no entry point {}", k.name, k.entry));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} kernels failed:\n{}",
        failures.len(),
        variants.len(),
        failures.join("\n")
    );
}
